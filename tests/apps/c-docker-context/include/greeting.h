#define GREETING "hello from the docker context"
