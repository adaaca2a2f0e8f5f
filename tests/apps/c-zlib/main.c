#include <stdio.h>
#include <string.h>
#include <zlib.h>

int main(void)
{
    const char *text = "s2i s2i s2i s2i s2i s2i s2i s2i";
    unsigned char packed[128];
    uLongf size = sizeof packed;
    if (compress(packed, &size, (const unsigned char *)text, strlen(text)) != Z_OK)
        return 1;
    printf("zlib %s packed %zu bytes into %lu\n", zlibVersion(), strlen(text), (unsigned long)size);
    return 0;
}
