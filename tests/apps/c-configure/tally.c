/* Counts its arguments; says which prefix configure gave it. */
#include <stdio.h>

int main(int argc, char **argv)
{
    (void)argv;
    printf("tally: %d arguments, configured for %s\n", argc - 1, PREFIX);
    return 0;
}
