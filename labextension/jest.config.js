// Unit tests of the pure front-end logic (src/logic.ts), compiled by ts-jest.
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src'],
  testRegex: 'src/__tests__/.*\\.spec\\.ts$',
  transform: {
    '^.+\\.ts$': [
      'ts-jest',
      {
        tsconfig: {
          module: 'commonjs',
          target: 'ES2018',
          lib: ['ES2018', 'DOM'],
          strict: true,
          esModuleInterop: true,
          types: ['jest']
        }
      }
    ]
  }
};
