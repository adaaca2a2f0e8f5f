#include <stdio.h>
#include "stamp.h"

int main(void)
{
    int ok = stamp(1) == 10;
    printf("%s\n", ok ? "ok" : "FAIL");
    return !ok;
}
