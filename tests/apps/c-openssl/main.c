#include <stdio.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

/* Prints the OpenSSL it runs with and the SHA-256 of its argument (default "s2i"). */
int main(int argc, char **argv)
{
    const char *text = argc > 1 ? argv[1] : "s2i";
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (!EVP_Digest(text, strlen(text), digest, &size, EVP_sha256(), NULL))
        return 1;
    printf("%s\nsha256(%s)=", OpenSSL_version(OPENSSL_VERSION), text);
    for (unsigned int i = 0; i < size; i++)
        printf("%02x", digest[i]);
    printf("\n");
    return 0;
}
