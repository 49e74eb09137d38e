/* The floor for bench/compare.sh: dL/dW_r of the tanh RNN (squared error at the last step) by plain loops in C,
 * compiled with -O3 -march=native -ffast-math (so that the sums vectorise): what the machine does with no
 * interpretation at all. Reads the params file
 * that compare.sh writes in a simple form (n d m T, then W_r, W_x, W_y, s0, x, target as whitespace-separated
 * numbers); prints the median seconds of 20 runs and the gradient's first entry.
 *   cc -O3 -march=native -ffast-math -o floor bench/floor.c -lm && ./floor params.txt */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }
static double *rd(FILE *f, size_t k) { double *v = malloc(k * sizeof *v); for (size_t i = 0; i < k; i++) if (fscanf(f, "%lf", &v[i]) != 1) exit(2); return v; }

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  FILE *f = fopen(argv[1], "r");
  int n, d, m, T;
  if (!f || fscanf(f, "%d %d %d %d", &n, &d, &m, &T) != 4) return 2;
  double *Wr = rd(f, n * n), *Wx = rd(f, n * d), *Wy = rd(f, m * n), *s0 = rd(f, n), *X = rd(f, (size_t)T * d), *yb = rd(f, m);
  double *S = malloc((size_t)(T + 1) * n * sizeof *S), *g = malloc(n * sizeof *g), *g2 = malloc(n * sizeof *g2), *dW = malloc(n * n * sizeof *dW), *y = malloc(m * sizeof *y);
  double times[20];
  for (int run = 0; run < 20; run++) {
    double t0 = now();
    memcpy(S, s0, n * sizeof *S);
    for (int t = 0; t < T; t++) {
      const double *sp = S + (size_t)t * n, *x = X + (size_t)t * d;
      double *s = S + (size_t)(t + 1) * n;
      for (int i = 0; i < n; i++) {
        double h = 0;
        for (int p = 0; p < n; p++) h += Wr[i * n + p] * sp[p];
        for (int q = 0; q < d; q++) h += Wx[i * d + q] * x[q];
        s[i] = tanh(h);
      }
    }
    const double *sT = S + (size_t)T * n;
    for (int o = 0; o < m; o++) { double v = 0; for (int a = 0; a < n; a++) v += Wy[o * n + a] * sT[a]; y[o] = v - yb[o]; }
    for (int a = 0; a < n; a++) { double v = 0; for (int o = 0; o < m; o++) v += Wy[o * n + a] * y[o]; g[a] = v * (1 - sT[a] * sT[a]); }
    memset(dW, 0, n * n * sizeof *dW);
    for (int t = T; t >= 1; t--) {
      const double *sp = S + (size_t)(t - 1) * n;
      for (int i = 0; i < n; i++) for (int p = 0; p < n; p++) dW[i * n + p] += g[i] * sp[p];
      if (t > 1) {
        for (int p = 0; p < n; p++) g2[p] = 0;
        for (int a = 0; a < n; a++) for (int p = 0; p < n; p++) g2[p] += Wr[a * n + p] * g[a];
        for (int p = 0; p < n; p++) g[p] = g2[p] * (1 - sp[p] * sp[p]);
      }
    }
    times[run] = now() - t0;
  }
  qsort(times, 20, sizeof *times, cmp);
  printf("%.6f %.17g\n", times[10], dW[0]);
  return 0;
}
