#include <stdio.h>

int main(void) {
    printf("stamper %s\n", STAMPER_VERSION);
    return 0;
}
