# Default clock constraint for fdcnn tops.
create_clock -name clk -period 10.0 [get_ports clk]
