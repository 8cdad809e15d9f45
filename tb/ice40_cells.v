// Simulation models of the Lattice iCE40 logic cell's LUT and carry, SB_LUT4 and SB_CARRY, for
// benches of designs generated for family "ice40" (hdl/carry.py instantiates them). The LUT's
// output is LUT_INIT indexed by {I3, I2, I1, I0}, read through multiplexers input by input, so
// an unknown input that the function does not depend on leaves the output known (as hardware
// has no unknowns; an indexed read would make it X). The carry out is the majority of I0, I1
// and CI.
module SB_LUT4 #(
    parameter [15:0] LUT_INIT = 16'h0000
) (
    input I0, I1, I2, I3,
    output O
);
    wire [7:0] by_i3 = I3 ? LUT_INIT[15:8] : LUT_INIT[7:0];
    wire [3:0] by_i2 = I2 ? by_i3[7:4] : by_i3[3:0];
    wire [1:0] by_i1 = I1 ? by_i2[3:2] : by_i2[1:0];
    assign O = I0 ? by_i1[1] : by_i1[0];
endmodule

module SB_CARRY (
    input I0, I1, CI,
    output CO
);
    assign CO = (I0 & I1) | ((I0 | I1) & CI);
endmodule
