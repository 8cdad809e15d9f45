"""cocotb testbenches, their pytest runners and the tests of the golden models."""
