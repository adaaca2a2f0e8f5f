module example.com/cgosum

go 1.22
