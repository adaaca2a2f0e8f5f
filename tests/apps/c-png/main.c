#include <png.h>
#include <stdio.h>

const char *greet(void);

int main(void) {
    printf("libpng %s, %s\n", png_get_libpng_ver(NULL), greet());
    return 0;
}
