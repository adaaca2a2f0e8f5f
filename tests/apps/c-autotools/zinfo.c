/* Says whether it was built with gzip support (zlib), which configure finds or not. */
#include "config.h"
#include <stdio.h>
#ifdef HAVE_ZLIB_H
#include <zlib.h>
#endif

int main(void)
{
#ifdef HAVE_ZLIB_H
    printf("zinfo: gzip support with zlib %s\n", zlibVersion());
#else
    printf("zinfo: no gzip support\n");
#endif
    return 0;
}
