"""Inline panels: run table, comparison, live curves (ipywidgets + Plotly), and their static forms."""
