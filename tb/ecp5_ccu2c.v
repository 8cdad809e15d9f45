// Simulation model of the Lattice ECP5 carry cell CCU2C, for benches of designs generated for
// family "ecp5" (hdl/carry.py instantiates it). Each half: a LUT4 of A, B, C, D (INIT, indexed
// by {D, C, B, A}) forms the propagate, whose XOR with the carry in is the sum bit; the carry
// out is the carry in where the propagate is 1, else the generate: the LUT2 of A and B that
// INIT's lowest four entries hold. INJECT1 "YES" keeps the carry in out of the half's sum bit
// and its generate out of the carry. The tables are read through multiplexers, input by input,
// so an unknown input that the function does not depend on leaves the output known (as
// hardware has no unknowns; an indexed read would make it X).
module CCU2C #(
    parameter [15:0] INIT0 = 16'h0000,
    parameter [15:0] INIT1 = 16'h0000,
    parameter INJECT1_0 = "YES",
    parameter INJECT1_1 = "YES"
) (
    input CIN, A0, B0, C0, D0, A1, B1, C1, D1,
    output S0, S1, COUT
);
    function lookup;
        input [15:0] init;
        input a, b, c, d;
        reg [7:0] by_d;
        reg [3:0] by_c;
        reg [1:0] by_b;
        begin
            by_d = d ? init[15:8] : init[7:0];
            by_c = c ? by_d[7:4] : by_d[3:0];
            by_b = b ? by_c[3:2] : by_c[1:0];
            lookup = a ? by_b[1] : by_b[0];
        end
    endfunction

    wire propagate0 = lookup(INIT0, A0, B0, C0, D0);
    wire propagate1 = lookup(INIT1, A1, B1, C1, D1);
    wire generate0 = INJECT1_0 == "YES" ? 1'b0 : lookup(INIT0, A0, B0, 1'b0, 1'b0);
    wire generate1 = INJECT1_1 == "YES" ? 1'b0 : lookup(INIT1, A1, B1, 1'b0, 1'b0);
    wire carry_mid = propagate0 ? CIN : generate0;
    assign S0 = propagate0 ^ (INJECT1_0 == "YES" ? 1'b0 : CIN);
    assign S1 = propagate1 ^ (INJECT1_1 == "YES" ? 1'b0 : carry_mid);
    assign COUT = propagate1 ? carry_mid : generate1;
endmodule
