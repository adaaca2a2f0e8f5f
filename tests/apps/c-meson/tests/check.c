#include "sum.h"

int main(void) {
    return sum_upto(4) == 10 ? 0 : 1;
}
