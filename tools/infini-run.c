/* tools/infini-run.c - placeholder; being written (issue 5). */
#include <stdio.h>
int main(void) {
  fputs("infini-run: not written yet\n", stderr);
  return 1;
}
