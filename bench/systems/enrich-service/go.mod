module sluice.bench/enrichservice

go 1.22
