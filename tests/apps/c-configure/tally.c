/* Counts its arguments; reads the word it prints from the data its install put under PREFIX/share. */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    char word[64] = "?";
    FILE *data = fopen(PREFIX "/share/tally/words.txt", "r");
    (void)argv;
    if (!data || !fgets(word, sizeof word, data)) {
        perror(PREFIX "/share/tally/words.txt");
        return 1;
    }
    word[strcspn(word, "\n")] = 0;
    printf("tally: %s %d arguments, configured for %s\n", word, argc - 1, PREFIX);
    return 0;
}
