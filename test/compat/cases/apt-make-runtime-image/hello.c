#include <stdio.h>

int main(int argc, char **argv) {
  printf("hello from a static binary (%d args)\n", argc);
  return 0;
}
