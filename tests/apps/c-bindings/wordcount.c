/* Counts the words of its arguments; the Python bindings in setup.py and python/ are not the app. */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    int words = 0;
    for (int i = 1; i < argc; i++)
        for (char *word = strtok(argv[i], " "); word; word = strtok(NULL, " "))
            words++;
    printf("wordcount: %d words\n", words);
    return 0;
}
