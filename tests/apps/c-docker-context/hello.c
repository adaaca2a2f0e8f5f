/* The program the Dockerfile this .dockerignore was written for builds. */
#include <stdio.h>
#include "include/greeting.h"

int main(void) { puts(GREETING); return 0; }
