"""A small driver for unit tests of components in Amaranth's own simulator."""

from amaranth.sim import Simulator

__all__ = ["run_cycles"]


def run_cycles(dut, cycles, drive, sample):
    """Simulate ``dut`` for ``cycles`` clock cycles: before each rising edge ``drive(ctx,
    cycle)`` sets inputs, then ``sample(ctx, cycle)`` reads what the design shows in that cycle
    (the state before the edge). Returns the list of ``sample``'s results."""
    results = []

    async def bench(ctx):
        for cycle in range(cycles):
            drive(ctx, cycle)
            results.append(sample(ctx, cycle))
            await ctx.tick()

    simulator = Simulator(dut)
    simulator.add_clock(1e-8)
    simulator.add_testbench(bench)
    simulator.run()
    return results
