"""Register packing for ECP5 netlists: fabric flip-flops moved into the DSP and block-RAM
primitives beside them, before nextpnr places the design.

Lattice's own flow puts a register that feeds a ``MULT18X18D``'s operands, or that a product
or a ``DP16KD``'s read data feeds, into the primitive's own registers; Yosys 0.70's
``synth_ecp5`` leaves every one of them in the fabric, so each multiplier's 3.9 ns and each
block RAM's 5.8 ns clock-to-output stand in a path with two routes. :func:`pack_registers`
does what the vendor flow does, on the JSON netlist ``synth_ecp5`` writes:

* ``MULT18X18D`` operands: when every bit of both ``A`` and ``B`` is a ``TRELLIS_FF``'s
  output (or a constant), the flip-flops become the input registers ``REG_INPUTA`` and
  ``REG_INPUTB``: the operand pins take the flip-flops' inputs, and a flip-flop nothing else
  reads is removed. One operand alone is not packed: nextpnr would time the block as if
  neither were registered, folding the other register's paths into the multiplier's.
* ``MULT18X18D`` product: when every used bit of ``P`` is read by exactly one flip-flop and
  nothing else, those become ``REG_OUTPUT``; when each of those is in turn read by exactly
  one flip-flop, the first rank becomes ``REG_PIPELINE`` and the second ``REG_OUTPUT``.
* ``DP16KD`` read data: when every used ``DO`` bit is read by exactly one flip-flop and
  nothing else, those become the output register (``REGMODE = "OUTREG"``, enabled by
  ``OCE``).

A flip-flop qualifies when it has no set/reset (``LSR`` constant 0), powers up at 0, is
clocked on the rising edge by the primitive's clock, and (for a rank of them) all share one
clock enable; the primitive's register then uses that enable. Block RAM is packed first, so
a flip-flop between a block RAM and a multiplier becomes the RAM's output register. The
logic is unchanged: the same registers, in the primitives. ``fdcnn synth --fmax`` packs
before nextpnr; the utilization table is Yosys's count before packing.

nextpnr times a multiplier with both operand registers and an output register from the
output register's clock-to-output; the array between the registers (3.9 ns in its model of
the unregistered block) is the block's own path, which it does not check: it fits the clock
periods measured here (> 8 ns), and a design aiming much higher needs the pipeline
register too.
"""

from collections import defaultdict

__all__ = ["pack_registers"]

#: ``MULT18X18D`` clock-enable inputs, one per distinct enable net of its registers.
DSP_ENABLES = ("CE0", "CE1", "CE2", "CE3")


class _Netlist:
    """One module of a Yosys JSON netlist, with each net's driver and readers."""

    def __init__(self, module):
        self.cells = module["cells"]
        self.driver, self.readers = {}, defaultdict(list)
        for name, cell in self.cells.items():
            for port, bits in cell["connections"].items():
                output = cell["port_directions"][port] == "output"
                for index, bit in enumerate(bits):
                    if isinstance(bit, int):
                        if output:
                            self.driver[bit] = (name, port, index)
                        else:
                            self.readers[bit].append((name, port, index))
        self.ports = {bit for port in module["ports"].values() for bit in port["bits"]}

    def pins(self, cell, prefix):
        """The ``(port, bit)`` pairs of ``cell``'s one-bit ports ``prefix0``, ``prefix1``, …"""
        connections = self.cells[cell]["connections"]
        return [(port, connections[port][0]) for port in connections
                if port.startswith(prefix) and port[len(prefix):].isdigit()]

    def plain_flip_flop(self, name, clock):
        """Whether ``name`` is a ``TRELLIS_FF`` without set/reset, powering up at 0, on the
        rising edge of ``clock``: its clock enable net (``"1"`` when always enabled), else
        ``None``."""
        cell = self.cells.get(name)
        if cell is None or cell["type"] != "TRELLIS_FF":
            return None
        parameters, connections = cell["parameters"], cell["connections"]
        if (connections["CLK"] != clock or parameters.get("CLKMUX", "CLK") != "CLK"
                or connections.get("LSR", ["0"]) != ["0"]
                or parameters.get("REGSET", "RESET") != "RESET"):
            return None
        enable_mux = parameters.get("CEMUX", "CE").strip()
        if enable_mux == "1":
            return "1"
        return connections["CE"][0] if enable_mux == "CE" else None

    def sole_flip_flop(self, bit, clock):
        """The flip-flop that is ``bit``'s only reader (through ``DI``), with its enable, or
        ``None``."""
        readers = self.readers.get(bit, [])
        if len(readers) != 1 or bit in self.ports:
            return None
        name, port, _ = readers[0]
        enable = self.plain_flip_flop(name, clock) if port == "DI" else None
        return None if enable is None else (name, enable)

    def rank_after(self, bits, clock):
        """The flip-flops that are the only readers of each of ``bits`` (unread bits are
        skipped), as ``{bit: flip-flop}``, and their common enable; ``None`` unless every read
        bit has one and they share an enable."""
        rank, enables = {}, set()
        for bit in bits:
            if not isinstance(bit, int) or not self.readers.get(bit):
                continue
            found = self.sole_flip_flop(bit, clock)
            if found is None:
                return None
            rank[bit], enable = found
            enables.add(enable)
        if not rank or len(enables) != 1:
            return None
        return rank, enables.pop()

    def absorb_after(self, rank):
        """Remove the flip-flops in ``rank`` (``{bit: flip-flop}``); returns ``{bit: q}``, the
        net each flip-flop drove, which the primitive's pin now drives."""
        outputs = {}
        for bit, name in rank.items():
            outputs[bit] = self.cells[name]["connections"]["Q"][0]
            self.remove(name)
        return outputs

    def remove(self, name):
        """Take the cell ``name`` out, with its connections."""
        cell = self.cells.pop(name)
        for port, bits in cell["connections"].items():
            for index, bit in enumerate(bits):
                if not isinstance(bit, int):
                    continue
                if cell["port_directions"][port] == "output":
                    self.driver.pop(bit, None)
                else:
                    self.readers[bit].remove((name, port, index))

    def connect(self, cell, port, bit):
        """Point ``cell``'s one-bit ``port`` at ``bit``, keeping the indexes current."""
        connections = self.cells[cell]["connections"]
        old = connections.get(port, ["x"])[0]
        output = self.cells[cell]["port_directions"].setdefault(port, "input") == "output"
        if isinstance(old, int):
            if output:
                self.driver.pop(old, None)
            else:
                self.readers[old].remove((cell, port, 0))
        connections[port] = [bit]
        if isinstance(bit, int):
            if output:
                self.driver[bit] = (cell, port, 0)
            else:
                self.readers[bit].append((cell, port, 0))


def _enable_pin(enable, used):
    """The ``CEn`` pin carrying ``enable``, given the pins already ``used`` (pin → enable
    net): its own, or the first free one. A multiplier has four registers and four pins, so
    one is always left."""
    pin = next((pin for pin, net in used.items() if net == enable), None) or \
        next(pin for pin in DSP_ENABLES if pin not in used)
    used[pin] = enable
    return pin


def _operand_registers(netlist, dsp, operand, clock):
    """The flip-flops driving ``dsp``'s ``operand`` pins (pin → flip-flop) and their common
    enable, or ``None`` unless every non-constant pin has one and they share an enable."""
    sources, enables = {}, set()
    for port, bit in netlist.pins(dsp, operand):
        if not isinstance(bit, int):
            continue
        name = netlist.driver.get(bit, (None,))[0]
        enable = netlist.plain_flip_flop(name, clock) if name else None
        if enable is None:
            return None
        sources[port] = name
        enables.add(enable)
    return (sources, enables.pop()) if sources and len(enables) == 1 else None


def _pack_operands(netlist, dsp, clock, used):
    """``REG_INPUTA`` and ``REG_INPUTB`` from the flip-flops driving the operand pins: both
    or neither (nextpnr times a block with one registered operand as if neither were)."""
    found = [_operand_registers(netlist, dsp, operand, clock) for operand in "AB"]
    if None in found:
        return 0
    pins = [_enable_pin(enable, used) for _, enable in found]
    for operand, (sources, _), pin in zip("AB", found, pins):
        for port, name in sources.items():
            q = netlist.cells[name]["connections"]["Q"][0]
            netlist.connect(dsp, port, netlist.cells[name]["connections"]["DI"][0])
            if not netlist.readers[q] and q not in netlist.ports:
                netlist.remove(name)
        _set_register(netlist, dsp, f"INPUT{operand}", pin)
    return 2


def _set_register(netlist, dsp, register, enable_pin):
    netlist.cells[dsp]["parameters"].update({f"REG_{register}_CLK": "CLK0",
                                             f"REG_{register}_CE": enable_pin,
                                             f"REG_{register}_RST": "RST0"})


def _pack_product(netlist, dsp, clock, used):
    """``REG_OUTPUT`` (and ``REG_PIPELINE`` before it) from the flip-flops reading ``P``."""
    pins = netlist.pins(dsp, "P")
    first = netlist.rank_after([bit for _, bit in pins], clock)
    if first is None:
        return 0
    second = netlist.rank_after(
        [netlist.cells[name]["connections"]["Q"][0] for name in first[0].values()], clock)
    ranks = [first] if second is None else [first, second]
    pins_of = [_enable_pin(enable, used) for _, enable in ranks]
    registers = ["OUTPUT"] if len(ranks) == 1 else ["PIPELINE", "OUTPUT"]
    wiring = {bit: bit for _, bit in pins}
    for (rank, _), register, pin in zip(ranks, registers, pins_of):
        moved = netlist.absorb_after(rank)
        wiring = {start: moved.get(now, now) for start, now in wiring.items()}
        _set_register(netlist, dsp, register, pin)
    for port, bit in pins:
        netlist.connect(dsp, port, wiring[bit])
    return len(ranks)


def _pack_ram_output(netlist, ram):
    """The output register of ``ram`` (a ``DP16KD``) from the flip-flops reading its data."""
    connections = netlist.cells[ram]["connections"]
    clock = connections["CLKB"]
    pins = netlist.pins(ram, "DOA") + netlist.pins(ram, "DOB")
    found = netlist.rank_after([bit for _, bit in pins], clock)
    if found is None:
        return False
    rank, enable = found
    moved = netlist.absorb_after(rank)
    for port, bit in pins:
        netlist.connect(ram, port, moved.get(bit, bit))
    for side in "AB":        # a 36-bit read uses both halves' data outputs
        netlist.cells[ram]["parameters"][f"REGMODE_{side}"] = "OUTREG"
        netlist.connect(ram, f"OCE{side}", enable)
        netlist.connect(ram, f"RST{side}", "0")
    return True


def pack_registers(design, top):
    """Pack registers into ``top``'s ``DP16KD`` and ``MULT18X18D`` cells in ``design`` (a
    Yosys JSON netlist, changed in place). Returns how many block RAMs got an output register
    and how many register ranks went into multipliers: ``{"DP16KD": n, "MULT18X18D": n}``."""
    netlist = _Netlist(design["modules"][top])
    packed = {"DP16KD": 0, "MULT18X18D": 0}
    for name in [name for name, cell in netlist.cells.items() if cell["type"] == "DP16KD"]:
        packed["DP16KD"] += _pack_ram_output(netlist, name)
    for name in [name for name, cell in netlist.cells.items() if cell["type"] == "MULT18X18D"]:
        clock, used = _clock_of(netlist, name), {}
        if clock is None:
            continue
        ranks = _pack_product(netlist, name, clock, used) + _pack_operands(netlist, name,
                                                                            clock, used)
        if ranks:
            netlist.connect(name, "CLK0", clock[0])
            netlist.connect(name, "RST0", "0")
            for pin, enable in used.items():
                netlist.connect(name, pin, enable)
        packed["MULT18X18D"] += ranks
    return packed


def _clock_of(netlist, dsp):
    """The clock (a ``CLK`` connection) of a flip-flop beside ``dsp``: one driving an operand
    or reading the product; ``None`` when there is none."""
    neighbours = [netlist.driver.get(bit, (None,))[0] for prefix in "AB"
                  for _, bit in netlist.pins(dsp, prefix)]
    neighbours += [reader for _, bit in netlist.pins(dsp, "P")
                   for reader, _, _ in netlist.readers.get(bit, [])]
    for name in neighbours:
        cell = netlist.cells.get(name)
        if cell is not None and cell["type"] == "TRELLIS_FF":
            return cell["connections"]["CLK"]
    return None
