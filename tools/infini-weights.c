/* tools/infini-weights.c - placeholder; being written (issue 5). */
#include <stdio.h>
int main(void) {
  fputs("infini-weights: not written yet\n", stderr);
  return 1;
}
