# nextpnr-ice40 --pre-pack: default clock constraint for fdcnn tops.
ctx.addClock("clk", 100)  # noqa: F821 (ctx is provided by nextpnr) -- MHz
