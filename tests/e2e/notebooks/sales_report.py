"""A pandas reporting notebook: a helper module written with ``%%writefile``, seeded orders, aggregates.

Covers: logging to stderr, ``%%writefile`` + import of the written module, DataFrame HTML reprs, ``%time``
(line) and ``%%time`` (cell) magics, ``!`` shell escapes with ``{}`` expansion, a chained exception
raised in the helper module, a ``%%capture`` cell that fails half-way, Markdown and JSON displays, a
cell whose last expression is None, a cell ending with ``;``, a cell with a syntax error (a typo), and
the namespace digest.
"""

from tests.e2e.notebooks import code, markdown, namespace_digest

CELLS = [
    markdown("title", "# Sales report\nOrders by region and month, with pricing rules from `pricing.py`."),
    code(
        "setup",
        """
        import logging
        import sys

        import numpy as np
        import pandas as pd

        logging.basicConfig(format="%(levelname)s %(name)s: %(message)s", force=True)
        log = logging.getLogger("report")
        rng = np.random.default_rng(2024)
        pd.set_option("display.precision", 2)
        """,
    ),
    code(
        "pricing_module",
        '''
        %%writefile pricing.py
        """Pricing rules shared by the sales notebooks."""


        class PriceError(ValueError):
            """A price or a discount that makes no sense."""


        def apply_discount(prices, rate):
            if not 0 <= rate < 1:
                raise PriceError(f"discount rate must be in [0, 1), got {rate}")
            return prices * (1 - rate)


        def unit_price(product, catalogue):
            try:
                return catalogue[product]
            except KeyError as exc:
                raise PriceError(f"no price for {product!r}") from exc
        ''',
    ),
    code(
        "import_pricing",
        """
        import importlib

        import pricing

        importlib.reload(pricing)
        catalogue = {"widget": 2.5, "gadget": 12.0, "gizmo": 7.25, "doohickey": 0.99}
        sorted(catalogue)
        """,
    ),
    code(
        "orders",
        """
        n_orders = 500
        regions = ["north", "south", "east", "west"]
        orders = pd.DataFrame(
            {
                "date": pd.date_range("2024-01-01", periods=n_orders, freq="13h"),
                "region": rng.choice(regions, size=n_orders),
                "product": rng.choice(list(catalogue), size=n_orders),
                "quantity": rng.integers(-1, 20, size=n_orders),
            }
        )
        orders["price"] = [pricing.unit_price(p, catalogue) for p in orders["product"]]
        orders["revenue"] = orders["quantity"] * orders["price"]
        orders.head()
        """,
    ),
    code(
        "quality",
        """
        bad = orders["quantity"] <= 0
        if bad.any():
            log.warning("%d orders have a non-positive quantity; dropped", bad.sum())
        orders = orders[~bad].reset_index(drop=True)
        print(f"{len(orders)} orders kept")
        """,
    ),
    code(
        "by_region",
        """
        %time by_region = orders.groupby("region")["revenue"].agg(["count", "sum", "mean"])
        by_region.sort_values("sum", ascending=False)
        """,
    ),
    code(
        "monthly",
        """
        %%time
        monthly = orders.pivot_table(
            index=orders["date"].dt.to_period("M"),
            columns="region",
            values="revenue",
            aggfunc="sum",
            fill_value=0,
        )
        monthly.round(0).astype(int)
        """,
    ),
    code(
        "shell",
        """
        !echo "report for {len(orders)} orders in {len(regions)} regions"
        !ls *.py
        """,
    ),
    code(
        "discount",
        """
        discounted = pricing.apply_discount(orders["revenue"], 0.15)
        print(f"revenue after discount: {discounted.sum():,.2f}")
        print("note: discounts exclude returns", file=sys.stderr)
        """,
    ),
    code(
        "bad_discount",
        """
        holiday_rate = 1.5  # meant 0.15
        pricing.apply_discount(orders["revenue"], holiday_rate)
        """,
    ),
    code(
        "unknown_product",
        """
        pricing.unit_price("sprocket", catalogue)
        """,
    ),
    code(
        "export",
        """
        %%capture export_log
        for region, part in orders.groupby("region"):
            print(f"writing {len(part)} rows for {region}")
            part.to_csv(f"exports/{region}.csv", index=False)
        """,
    ),
    code(
        "export_log",
        """
        export_log.stdout
        """,
    ),
    code(
        "highlights",
        """
        from IPython.display import JSON, Markdown, display

        top = by_region["sum"].idxmax()
        display(Markdown(f"**{len(orders)} orders** · best region: *{top}*"))
        display(JSON({"orders_per_region": by_region["count"].to_dict(), "top": top}))
        """,
    ),
    code(
        "sort",
        """
        orders.sort_values(["region", "revenue"], ascending=[True, False], inplace=True)
        """,
    ),
    code(
        "describe",
        """
        stats = orders[["quantity", "price", "revenue"]].describe()
        print(stats.round(2).to_string())
        stats;
        """,
    ),
    code(
        "typo",
        """
        weekly = orders.groupby(orders["date"].dt.isocalendar().week)["revenue"].sum(
        weekly.tail()
        """,
    ),
    namespace_digest(),
]
