#include <stdio.h>
#include <stdlib.h>
#include "config.h"
#include "sum.h"
#if HAVE_ZLIB_H
#include <zlib.h>
#endif

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 3;
#if HAVE_ZLIB_H
    printf("adder %s: %d (zlib %s)\n", ADDER_VERSION, sum_upto(n), zlibVersion());
#else
    printf("adder %s: %d (no zlib)\n", ADDER_VERSION, sum_upto(n));
#endif
    return 0;
}
