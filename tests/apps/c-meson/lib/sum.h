int sum_upto(int n);
