#include <stdio.h>

int main(void) {
    printf("beacon-watch: watching\n");
    return 0;
}
