"""Frame normalization unit: ``z = (v − mean) / std`` over each frame, computed at run time
(:class:`fdcnn.golden.norm.FrameNormModel` is its arithmetic, bit for bit).

Architecture
------------
While a frame streams in, each sample goes into a frame buffer
(:class:`~fdcnn.hdl.permute.PermutationBuffer` without a permutation: ``N`` words, each read
for the old frame as the new frame's sample takes its place) and into the statistics: two
squarers and three accumulators (``S`` real and imaginary, ``Q``). At a frame's end the totals
enter a pipeline of one register per operation: the parts of ``S``'s squares (each one DSP
block's product, :func:`~fdcnn.hdl.fixed.product_parts`) and ``N·Q``; the squares; ``|S|²``;
``D``; its leading one; its alignment; the normalized table index; the ``1/√`` table read (a
``2**T``-word ROM) with the output shift. The results land in one of two coefficient banks (frames
alternate), so a frame's coefficients are ready before its first sample leaves the buffer and
stay until its last. Each sample then leaves through six registered steps: ``a = N·v − S``;
the parts of ``a·R`` (DSP-block products with registered operands); their sum, beside the
rounding's constant for the frame's shift; the rounding increment; the shift; saturation.

Everything moves on every cycle the output can take a sample (one clock enable, the output
slice's room), so the last frame leaves without a following frame and a pause costs the pause.
Multipliers: 2 squarers, 2 for ``|S|²`` (once per frame), 2 for ``a·R``, each product with an
operand wider than 18 bits in parts (:func:`~fdcnn.hdl.fixed.product_parts`: three for a
square, two or four for ``a·R``); ``N·v`` and ``N·Q`` are constant products (shifts for a
power-of-two ``N``).
"""

from amaranth.hdl import Cat, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.memory import Memory

from fdcnn.golden.norm import FrameNormModel, NormConfig, rsqrt_table
from fdcnn.hdl.axis import describe_format
from fdcnn.hdl.buffers import DelayLine, fresh_flag, read_latency
from fdcnn.hdl.fixed import (product_part_count, product_parts, round_bias_by,
                              rounding_constant, saturate)
from fdcnn.hdl.permute import PermutationBuffer
from fdcnn.hdl.stream import (INPUT_SLICE_LATENCY, TLAST_PORT_DESCRIPTIONS, FramedOutput,
                              frame_block_members, frame_shell)

__all__ = ["FrameNorm"]

#: Enabled cycles from a frame's last sample in the input register to its ``1/√`` in a bank:
#: squares, accumulation, the parts of the squares of ``S`` (DSP-block products) and ``N·Q``,
#: the squares, ``|S|²``, ``D``, its leading one, its alignment, the table index, the table read
#: (one register each, for the clock's sake).
STATISTICS_CYCLES = 11
#: Steps after the alignment: numerator, the product's parts, product, rounding bias, shift,
#: saturation.
OUTPUT_STEPS = 6


def alignment(frame):
    """Registers between the buffer's output and ``a = N·v − S`` (which takes the bank's
    ``1/√`` along), so that the frame's coefficients are there: the buffer's first word is out
    ``1 +`` :func:`~fdcnn.hdl.buffers.read_latency` cycles after the last sample enters the
    input register."""
    return STATISTICS_CYCLES - 1 - read_latency(frame)


def bit_length(value):
    """The position of ``value``'s leading one plus one (0 for 0), as ``int.bit_length``: a
    tree of multiplexers, each choosing the upper part's length where it has a one, so the
    depth grows with the logarithm of the width."""
    width = len(value)
    if width == 1:
        return value[0]
    half = 1 << ((width - 1).bit_length() - 1)      # the largest power of two below width
    low, high = value[:half], value[half:]
    return Mux(high.any(), half + bit_length(high), bit_length(low))


def _registered_sum(m, parts, name):
    """The sum of ``(product, shift)`` ``parts`` (:func:`~fdcnn.hdl.fixed.product_parts`),
    each product in a register of its own (no reset: a DSP block's output register) that
    moves with the enclosing enable; the caller registers the sum a cycle later."""
    registers = []
    for index, (product, shift) in enumerate(parts):
        register = Signal(product.shape(), reset_less=True, name=f"{name}_part{index}")
        m.d.sync += register.eq(product)
        registers.append(register << shift)
    return sum(registers)


def _sample_layout(width):
    return data.StructLayout({"real": signed(width), "imag": signed(width), "valid": 1,
                              "bank": 1})


class FrameNorm(wiring.Component):
    """Frame normalization, one complex sample per clock, frames of ``frame`` samples.

    Members
    -------
    i : In(complex_stream(data_width))
    o : Out(complex_stream(output_format.width))
        ``z`` codes (``output_format``), ``last`` on each frame's final sample.
    overflow : Out(1)
        With each output sample: a ``z`` of this frame saturated (so far).
    tlast_missing, tlast_unexpected : Out(1)
        As the other blocks'.
    """

    def __init__(self, config: NormConfig):
        self.model = FrameNormModel(config)
        super().__init__(frame_block_members(config.data_width, config.output_format.width))

    @property
    def multipliers(self) -> int:
        """Real multipliers: the squarers, the parts of ``|S|²`` and ``a·R``'s."""
        config = self.model.config
        return (2 + 2 * product_part_count(config.sum_width)
                + 2 * product_part_count(config.numerator_width, config.rsqrt_width))

    @property
    def buffer_words(self) -> dict:
        """RAM words by purpose: the frame (one complex sample and its tags each) and the 1/√
        table."""
        config = self.model.config
        return {"frame": config.frame, "rsqrt_table": 1 << config.rsqrt_bits}

    @property
    def latency(self) -> int:
        """Cycles from a frame's first input handshake to its first output handshake, without
        gaps or stalls: the frame is buffered whole first."""
        return (INPUT_SLICE_LATENCY + 1 + PermutationBuffer.delay(self.model.frame)
                + alignment(self.model.frame)
                + OUTPUT_STEPS + FramedOutput.latency)

    def describe(self) -> dict:
        config = self.model.config
        return {
            "parameters": config.parameters(),
            "latency_cycles": self.latency,
            "throughput": "1 sample per clock, frames back to back",
            "multipliers": self.multipliers,
            "buffer_words": self.buffer_words,
            "input_format": {"width": config.data_width, "fraction": "any (z is scale-free)"},
            "output_format": describe_format(config.output_format),
            "output": "(v − mean(v)) / std(v) over each frame (complex mean, population std)",
            "error_lsb": "≤ ½ + |z|·2**fraction·(2**−rsqrt_bits + 2**(1−rsqrt_width))",
            "port_descriptions": {
                "overflow": "with each m_axis beat: a z of this output frame saturated (so far; "
                            "complete on the tlast beat)",
                **TLAST_PORT_DESCRIPTIONS,
            },
        }

    def elaborate(self, platform):
        m = Module()
        config = self.model.config
        frame = config.frame
        shell = frame_shell(m, self, frame, config.output_format.width)
        head, accept, enable, last, output = (shell.head, shell.accept, shell.enable,
                                              shell.last, shell.output)
        bank = Signal()                          # frames alternate between coefficient banks
        with m.If(accept):
            m.d.sync += bank.eq(bank ^ last)

        sample = Signal(_sample_layout(config.data_width))
        sample_last = Signal()
        with m.If(enable):
            m.d.sync += [sample.real.eq(head.data.real), sample.imag.eq(head.data.imag),
                         sample.valid.eq(accept), sample.bank.eq(bank),
                         sample_last.eq(accept & last)]
        m.submodules.buffer = buffer = PermutationBuffer(layout=sample.shape(), size=frame)
        m.d.comb += [buffer.stall.eq(~enable), buffer.fresh.eq(1), buffer.i.eq(sample)]

        coefficients = self._statistics(m, sample, sample_last, enable)
        read = fresh_flag(m, "read", buffer.advance, ~enable)   # buffer.o is a new word
        m.submodules.alignment = aligned = DelayLine(sample.shape(), alignment(frame))
        m.d.comb += [aligned.en.eq(enable), aligned.i.eq(buffer.o),
                     aligned.i.valid.eq(buffer.o.valid & read)]
        result, saturated, valid = self._normalize(m, aligned.o, coefficients, enable)
        m.d.comb += [output.w_en.eq(valid), output.w_data.real.eq(result[0]),
                     output.w_data.imag.eq(result[1]), output.w_overflow.eq(saturated)]
        return m

    def _statistics(self, m, sample, sample_last, enable):
        """Squares, accumulators and the four per-frame steps; returns the two coefficient
        banks (``sum_real``, ``sum_imag``, ``gain`` = ``R[j]``, ``shift`` = ``k``)."""
        config = self.model.config
        bits, width = config.rsqrt_bits, config.variance_width
        sum_shape, energy_shape = signed(config.sum_width), unsigned(config.energy_width)
        squares = [Signal(unsigned(2 * config.data_width), name=f"square_{part}")
                   for part in ("real", "imag")]
        squared = Signal(_sample_layout(config.data_width))
        squared_last = Signal()
        sums = [Signal(sum_shape, name=f"sum_{part}") for part in ("real", "imag")]
        energy = Signal(energy_shape)
        totals = [Signal(sum_shape, name=f"total_{part}", reset_less=True)
                  for part in ("real", "imag")]     # no reset: a DSP block's operand registers
        total_energy = Signal(energy_shape)
        steps = Signal(STATISTICS_CYCLES - 2)    # which per-frame steps hold a frame's figures
        step_bank = Signal(STATISTICS_CYCLES - 2)
        sum_squares = [Signal(unsigned(2 * config.sum_width), name=f"sum_square_{part}")
                       for part in ("real", "imag")]
        norm_sq = Signal(unsigned(2 * config.sum_width + 1))
        scaled_energy = [Signal(unsigned(width), name=f"scaled_energy{step}")
                         for step in range(3)]
        variance = Signal(unsigned(width))
        delayed_variance = [Signal(unsigned(width), name=f"variance{step}") for step in range(2)]
        index = Signal(unsigned(bits))
        aligned = Signal(range(width + bits))
        half_shift = Signal(range(width + 1))
        table_shift = Signal(range(width + 1))
        banks = [Signal(data.StructLayout({
            "sum_real": sum_shape, "sum_imag": sum_shape,
            "gain": unsigned(config.rsqrt_width),
            "shift": range(config.rsqrt_width - config.output_format.fraction + width // 2 + 2)}),
            name=f"bank{number}") for number in range(2)]
        table = Memory(shape=unsigned(config.rsqrt_width), depth=1 << bits,
                       init=[int(word) for word in rsqrt_table(bits, config.rsqrt_width)])
        m.submodules.rsqrt_table = table
        lookup = table.read_port()
        length = Signal(range(width + 1))       # D's leading one, then its alignment
        m.d.comb += [lookup.addr.eq(index), lookup.en.eq(enable)]
        with m.If(enable):
            m.d.sync += [
                squares[0].eq(sample.real * sample.real), squares[1].eq(sample.imag * sample.imag),
                squared.eq(sample), squared_last.eq(sample_last),
                steps.eq(Cat(squared_last, steps[:-1])),
                step_bank.eq(Cat(squared.bank, step_bank[:-1])),
                scaled_energy[0].eq(total_energy * config.frame),
                norm_sq.eq(sum_squares[0] + sum_squares[1]),
                scaled_energy[1].eq(scaled_energy[0]), scaled_energy[2].eq(scaled_energy[1]),
                variance.eq(scaled_energy[2] - norm_sq),
                # u = s + T − 2, s = L − T rounded up to even and at least 2 − T: u ≥ 0, even.
                length.eq(bit_length(variance)),
                aligned.eq(Mux(length == 0, 0, length - 2 + length[0])),
                delayed_variance[0].eq(variance), delayed_variance[1].eq(delayed_variance[0]),
                index.eq(((delayed_variance[1] << (bits - 2)) >> aligned)[:bits]),
                half_shift.eq(aligned >> 1), table_shift.eq(half_shift),
            ]
            for total, square in zip(totals, sum_squares):
                m.d.sync += square.eq(_registered_sum(m, product_parts(total), square.name))
            with m.If(squared.valid):
                added = [sums[0] + squared.real, sums[1] + squared.imag,
                         energy + squares[0] + squares[1]]
                m.d.sync += [target.eq(Mux(squared_last, 0, value))
                             for target, value in zip(sums + [energy], added)]
                with m.If(squared_last):
                    m.d.sync += [totals[0].eq(added[0]), totals[1].eq(added[1]),
                                 total_energy.eq(added[2])]
                    for number, target in enumerate(banks):
                        with m.If(squared.bank == number):
                            m.d.sync += [target.sum_real.eq(added[0]),
                                         target.sum_imag.eq(added[1])]
            for number, target in enumerate(banks):
                with m.If(steps[-1] & (step_bank[-1] == number)):
                    m.d.sync += [target.gain.eq(lookup.data),
                                 target.shift.eq(table_shift + config.rsqrt_width
                                                 - config.output_format.fraction)]
        return banks

    def _normalize(self, m, sample, banks, enable):
        """``a = N·v − S``, ``a·R`` (its DSP-block parts, then their sum), then the rounding
        shift and saturation: the output codes, their saturation and validity (registers)."""
        config = self.model.config
        parts = ("real", "imag")
        bank = Mux(sample.bank, banks[1].as_value(), banks[0].as_value())
        chosen = data.View(banks[0].shape(), bank)
        # The multipliers' operands and products have no reset: a DSP block's own registers.
        numerators = [Signal(signed(config.numerator_width), name=f"numerator_{part}",
                             reset_less=True) for part in parts]
        gain = Signal(unsigned(config.rsqrt_width), reset_less=True)
        products = [Signal(signed(config.numerator_width + config.rsqrt_width + 1),
                           name=f"product_{part}") for part in parts]
        results = [Signal(signed(config.output_format.width), name=f"z_{part}")
                   for part in parts]
        valid = Signal(OUTPUT_STEPS)
        shifts = [Signal.like(chosen.shift, name=f"shift{step}") for step in range(4)]
        biased = [Signal(signed(len(product) + 1), name=f"biased_{part}")
                  for product, part in zip(products, parts)]
        rounded = [Signal.like(product, name=f"rounded_{part}")
                   for product, part in zip(products, parts)]
        # The rounding's constant (a function of the frame's shift), beside the products.
        constant = Signal(unsigned(len(biased[0])))
        saturated = Signal()
        with m.If(enable):
            m.d.sync += [valid.eq(Cat(sample.valid, valid[:-1])),
                         constant.eq(rounding_constant(shifts[1], config.rounding)),
                         numerators[0].eq(sample.real * config.frame - chosen.sum_real),
                         numerators[1].eq(sample.imag * config.frame - chosen.sum_imag),
                         gain.eq(chosen.gain), shifts[0].eq(chosen.shift),
                         *(later.eq(earlier) for earlier, later in zip(shifts, shifts[1:]))]
            for numerator, product in zip(numerators, products):
                m.d.sync += product.eq(_registered_sum(m, product_parts(numerator, gain),
                                                       product.name))
            m.d.sync += [*(target.eq(round_bias_by(product, shifts[2], config.rounding, constant))
                           for target, product in zip(biased, products)),
                         *(target.eq(value >> shifts[3])
                           for target, value in zip(rounded, biased))]
            clamped = [saturate(value, config.output_format.width) for value in rounded]
            m.d.sync += [results[0].eq(clamped[0][0]), results[1].eq(clamped[1][0]),
                         saturated.eq(clamped[0][1] | clamped[1][1])]
        return results, saturated, valid[-1]


