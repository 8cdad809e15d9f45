"""Register packing into ECP5 DSP and block-RAM cells (:mod:`fdcnn.scripts.ecp5_pack`), on
small netlists in Yosys's JSON form."""

import itertools

import pytest

from fdcnn.scripts.ecp5_pack import pack_registers

CLOCK, ENABLE, RESET = 2, 3, 4


class NetlistBuilder:
    """A one-module Yosys JSON netlist, built cell by cell with fresh net numbers."""

    def __init__(self):
        self.nets = itertools.count(10)
        self.cells = {}

    def net(self):
        return next(self.nets)

    def flip_flop(self, name, d, *, reset="0"):
        q = self.net()
        self.cells[name] = {
            "type": "TRELLIS_FF",
            "parameters": {"CEMUX": "CE", "CLKMUX": "CLK", "GSR": "DISABLED", "LSRMUX": "LSR",
                           "REGSET": "RESET"},
            "port_directions": {"CE": "input", "CLK": "input", "DI": "input", "LSR": "input",
                                "Q": "output"},
            "connections": {"CE": [ENABLE], "CLK": [CLOCK], "DI": [d], "LSR": [reset],
                            "Q": [q]}}
        return q

    def lut(self, name, a):
        z = self.net()
        self.cells[name] = {"type": "LUT4", "parameters": {},
                            "port_directions": {"A": "input", "Z": "output"},
                            "connections": {"A": [a], "Z": [z]}}
        return z

    def block(self, name, kind, inputs, outputs):
        """A ``kind`` cell with one-bit input pins (name → net) and ``outputs`` (pin names,
        each given a fresh net); returns the output nets by pin."""
        driven = {pin: self.net() for pin in outputs}
        self.cells[name] = {
            "type": kind, "parameters": {},
            "port_directions": {**{pin: "input" for pin in inputs},
                                **{pin: "output" for pin in outputs}},
            "connections": {**{pin: [net] for pin, net in inputs.items()},
                            **{pin: [net] for pin, net in driven.items()}}}
        return driven

    def design(self, port_bits=()):
        return {"modules": {"top": {"ports": {"out": {"direction": "output",
                                                       "bits": list(port_bits)}},
                                    "cells": self.cells}}}


def multiplier(builder, *, width=2, reset="0"):
    """Operand registers → ``MULT18X18D`` (``width``-bit operands and product): returns the
    product nets."""
    inputs = {}
    for operand in "AB":
        for bit in range(width):
            inputs[f"{operand}{bit}"] = builder.flip_flop(f"{operand}_reg{bit}", builder.net(),
                                                          reset=reset)
    return builder.block("dsp", "MULT18X18D", inputs, [f"P{bit}" for bit in range(width)])


def test_operand_and_product_registers_move_into_the_multiplier():
    builder = NetlistBuilder()
    product = multiplier(builder)
    results = [builder.flip_flop(f"P_reg{bit}", net) for bit, net in enumerate(product.values())]
    operand_inputs = {pin: builder.cells[f"{pin[0]}_reg{pin[1:]}"]["connections"]["DI"][0]
                      for pin in ("A0", "A1", "B0", "B1")}
    design = builder.design(results)
    assert pack_registers(design, "top") == {"DP16KD": 0, "MULT18X18D": 3}
    cells = design["modules"]["top"]["cells"]
    assert sorted(cells) == ["dsp"]
    dsp = cells["dsp"]
    for register in ("INPUTA", "INPUTB", "OUTPUT"):
        assert dsp["parameters"][f"REG_{register}_CLK"] == "CLK0"
        assert dsp["parameters"][f"REG_{register}_CE"] == "CE0"
    assert "REG_PIPELINE_CLK" not in dsp["parameters"]
    connections = dsp["connections"]
    assert connections["CLK0"] == [CLOCK] and connections["CE0"] == [ENABLE]
    assert connections["RST0"] == ["0"]
    assert {pin: connections[pin][0] for pin in operand_inputs} == operand_inputs
    assert [connections[f"P{bit}"][0] for bit in range(2)] == results


def test_two_product_ranks_become_pipeline_and_output_registers():
    builder = NetlistBuilder()
    product = multiplier(builder)
    first = [builder.flip_flop(f"P_reg{bit}", net) for bit, net in enumerate(product.values())]
    second = [builder.flip_flop(f"P_late{bit}", net) for bit, net in enumerate(first)]
    design = builder.design(second)
    assert pack_registers(design, "top")["MULT18X18D"] == 4
    dsp = design["modules"]["top"]["cells"]["dsp"]
    assert dsp["parameters"]["REG_PIPELINE_CLK"] == "CLK0"
    assert dsp["parameters"]["REG_OUTPUT_CLK"] == "CLK0"
    assert [dsp["connections"][f"P{bit}"][0] for bit in range(2)] == second


@pytest.mark.parametrize("obstacle", ["reset", "second reader"])
def test_registers_that_are_not_plain_stay_in_the_fabric(obstacle):
    builder = NetlistBuilder()
    product = multiplier(builder, reset=RESET if obstacle == "reset" else "0")
    results = [builder.flip_flop(f"P_reg{bit}", net) for bit, net in enumerate(product.values())]
    if obstacle == "second reader":
        results.append(builder.lut("peek", product["P1"]))
    design = builder.design(results)
    packed = pack_registers(design, "top")["MULT18X18D"]
    cells = design["modules"]["top"]["cells"]
    if obstacle == "reset":         # no operand register qualifies, the product's does
        assert packed == 1 and "A_reg0" in cells and "P_reg0" not in cells
    else:
        assert packed == 2 and "P_reg0" in cells and "A_reg0" not in cells


def block_ram(builder, *, extra_reader=False):
    """``DP16KD`` whose two read-data bits feed registers (and a LUT with ``extra_reader``)."""
    data = builder.block("ram", "DP16KD", {"CLKA": CLOCK, "CLKB": CLOCK}, ["DOA0", "DOB0"])
    results = [builder.flip_flop(f"read{index}", net) for index, net in enumerate(data.values())]
    if extra_reader:
        results.append(builder.lut("peek", data["DOA0"]))
    return results


@pytest.mark.parametrize("extra_reader", [False, True])
def test_block_ram_read_data_registers_become_its_output_register(extra_reader):
    builder = NetlistBuilder()
    results = block_ram(builder, extra_reader=extra_reader)
    design = builder.design(results)
    assert pack_registers(design, "top")["DP16KD"] == (0 if extra_reader else 1)
    ram = design["modules"]["top"]["cells"]["ram"]
    if extra_reader:
        assert "REGMODE_B" not in ram["parameters"]
        return
    assert ram["parameters"]["REGMODE_A"] == ram["parameters"]["REGMODE_B"] == "OUTREG"
    assert ram["connections"]["OCEB"] == [ENABLE]
    assert [ram["connections"][pin][0] for pin in ("DOA0", "DOB0")] == results


def test_a_register_between_block_ram_and_multiplier_goes_to_the_ram_alone():
    """The register goes to the RAM; then only one operand has a register, so neither is
    packed (nextpnr would time the block as if neither were registered)."""
    builder = NetlistBuilder()
    data = builder.block("ram", "DP16KD", {"CLKA": CLOCK, "CLKB": CLOCK}, ["DOA0"])
    twiddle = builder.flip_flop("twiddle", data["DOA0"])
    sample = builder.flip_flop("sample", builder.net())
    product = builder.block("dsp", "MULT18X18D", {"A0": sample, "B0": twiddle}, ["P0"])
    design = builder.design([builder.flip_flop("result", product["P0"])])
    assert pack_registers(design, "top") == {"DP16KD": 1, "MULT18X18D": 1}
    cells = design["modules"]["top"]["cells"]
    assert "REG_INPUTA_CLK" not in cells["dsp"]["parameters"]
    assert "REG_INPUTB_CLK" not in cells["dsp"]["parameters"]
    assert "sample" in cells
    assert cells["dsp"]["connections"]["B0"] == cells["ram"]["connections"]["DOA0"]


def test_registers_with_different_enables_take_their_own_enable_pins():
    """Each distinct enable gets a ``CEn`` pin of its own; registers sharing one share it."""
    builder = NetlistBuilder()
    product = multiplier(builder)
    for operand in "AB":
        for bit in range(2):
            builder.cells[f"{operand}_reg{bit}"]["connections"]["CE"] = [5]
    results = [builder.flip_flop(f"P_reg{bit}", net) for bit, net in enumerate(product.values())]
    design = builder.design(results)
    assert pack_registers(design, "top")["MULT18X18D"] == 3
    dsp = design["modules"]["top"]["cells"]["dsp"]
    assert dsp["parameters"]["REG_OUTPUT_CE"] == "CE0"
    assert dsp["parameters"]["REG_INPUTA_CE"] == dsp["parameters"]["REG_INPUTB_CE"] == "CE1"
    assert dsp["connections"]["CE0"] == [ENABLE] and dsp["connections"]["CE1"] == [5]
