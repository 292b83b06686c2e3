# docs/capacity/plots.gp - the figures of docs/capacity.md from the CSVs of
# docs/capacity/sweeps.sh. `make capacity-plots` runs
#   gnuplot -e "data='DIR'; out='DIR'" docs/capacity/plots.gp
# Points are measured means with their standard errors; lines without
# points are the theory (columns cos_theory, top1_theory); dashed lines
# are the least-squares ceiling.
if (!exists("data")) data = "docs/capacity"
if (!exists("out")) out = "."
# preview='png' draws PNGs (pngcairo) instead, to look at them where no
# SVG viewer is at hand
if (exists("preview")) {
  set terminal pngcairo size 900,520 font "sans,11"
  ext = "png"
} else {
  set terminal svg size 900,520 dynamic font "sans,12" background "white"
  ext = "svg"
}
set termoption noenhanced
set datafile separator ","
set datafile missing "NaN"
set grid
set key outside right top spacing 1.1
set logscale x 2
set yrange [-0.02:1.02]

# Column numbers (capacity CSV).
RULE = 2; SHIFT = 5; RHO = 4; DK = 7; SEG = 9; N = 10
TOP1 = 16; TOP1SE = 17; COS = 14; COSSE = 15; LSQTOP1 = 22
COSTH = 26; TOP1TH = 27
is(c, s) = strcol(c) eq s
pick(cond, y) = cond ? y : NaN
f(name) = sprintf("%s/%s.csv", data, name)

# 1. Top-1 of iid Gaussian keys against n, for each d_key (linear rule).
set output sprintf("%s/capacity-gauss.".ext, out)
set title "iid Gaussian keys, linear rule: top-1 identification"
set xlabel "n, associations stored"
set ylabel "top-1"
plot for [d in "32 64 128 256"] f("gauss") every ::1 \
       using N:(pick(is(RULE, "linear") && column(DK) == d + 0, column(TOP1))):TOP1SE \
       with yerrorlines title sprintf("d_key %s", d), \
     for [d in "32 64 128 256"] f("gauss") every ::1 \
       using N:(pick(is(RULE, "linear") && column(DK) == d + 0, column(TOP1TH))) \
       with lines dt 1 lw 1 lc "gray50" notitle, \
     for [d in "32 64 128 256"] f("gauss") every ::1 \
       using N:(pick(is(RULE, "linear") && column(DK) == d + 0, column(LSQTOP1))) \
       with lines dt 2 title sprintf("least squares, d_key %s", d)

# 2. Cosine against n with the prediction 1/sqrt(1 + (n-1) r_rms^2).
set output sprintf("%s/capacity-cos.".ext, out)
set title "cosine of retrieval and value: measured (points), predicted (lines)"
set ylabel "cos(a, v)"
plot for [d in "32 64 128 256"] f("gauss") every ::1 \
       using N:(pick(is(RULE, "linear") && column(DK) == d + 0, column(COS))):COSSE \
       with yerrorlines title sprintf("gauss, d_key %s", d), \
     for [b in "0 2 4 8"] f("sparse3") every ::1 \
       using N:(pick(is(RULE, "linear") && column(SHIFT) == b + 0, column(COS))):COSSE \
       with yerrorlines title sprintf("sparse, scale 3, b %s", b), \
     f("gauss") every ::1 using N:(pick(is(RULE, "linear"), column(COSTH))) \
       with lines lc "gray30" title "1/sqrt(1+(n-1) r_{rms}^2)", \
     for [b in "0 2 4 8"] f("sparse3") every ::1 \
       using N:(pick(is(RULE, "linear") && column(SHIFT) == b + 0, column(COSTH))) \
       with lines lc "gray30" notitle

# 3. Segmentation: the same associations in 1, 4, 16 segments, token by token.
set output sprintf("%s/capacity-segments.".ext, out)
set title "d_key 64: written in one segment, in 4, in 16, token by token (S < n)"
set ylabel "top-1"
plot for [s in "1 4 16"] f("segments") every ::1 \
       using N:(pick(is(RULE, "delta") && column(SEG) == s + 0 && column(N) > s + 0, column(TOP1))):TOP1SE \
       with yerrorlines title sprintf("delta, %s segment(s)", s), \
     f("segments") every ::1 \
       using N:(pick(is(RULE, "delta") && column(SEG) == column(N), column(TOP1))) \
       smooth unique with linespoints lw 2 title "delta, token by token (S = n)", \
     f("segments") every ::1 \
       using N:(pick(is(RULE, "linear") && column(SEG) == 1, column(TOP1))) \
       smooth unique with lines lw 2 lc "black" title "linear (any segmentation)"

# 4. Sparsity: shift b at key scale 1 and 3.
set output sprintf("%s/capacity-sparse.".ext, out)
set title "d_key 64, linear rule: keys N(-b, s^2) (s = 1 thin, s = 3 thick)"
plot for [b in "0 2 4 8"] f("sparse1") every ::1 \
       using N:(pick(is(RULE, "linear") && column(SHIFT) == b + 0, column(TOP1))) \
       with linespoints lw 1 title sprintf("s 1, b %s", b), \
     for [b in "0 2 4 8"] f("sparse3") every ::1 \
       using N:(pick(is(RULE, "linear") && column(SHIFT) == b + 0, column(TOP1))):TOP1SE \
       with yerrorlines lw 2.5 title sprintf("s 3, b %s", b), \
     for [b in "0 4 8"] f("sparse3") every ::1 \
       using N:(pick(is(RULE, "linear") && column(SHIFT) == b + 0, column(TOP1TH))) \
       with lines lc "gray30" notitle

# 5. Correlated keys.
set output sprintf("%s/capacity-corr.".ext, out)
set title "d_key 64, linear rule: keys correlated by rho"
plot for [r in "0.1 0.3 0.6 0.9"] f("corr") every ::1 \
       using N:(pick(abs(column(RHO) - (r + 0)) < 1e-9, column(TOP1))):TOP1SE \
       with yerrorlines title sprintf("rho %s", r), \
     f("gauss") every ::1 using N:(pick(is(RULE, "linear") && column(DK) == 64, column(TOP1))) \
       with lines lw 2 lc "black" title "rho 0"

# 6. One-hot keys: the others at -b.
set output sprintf("%s/capacity-onehot.".ext, out)
set title "d_key 64, one-hot keys (round robin), other inputs at -b"
plot for [b in "2 4 8 200"] f("onehot") every ::1 \
       using N:(pick(is(RULE, "linear") && column(SHIFT) == b + 0, column(TOP1))) \
       with linespoints title sprintf("linear, b %s", b), \
     for [b in "2 200"] f("onehot") every ::1 \
       using N:(pick(is(RULE, "delta") && column(SHIFT) == b + 0, column(TOP1))) \
       with linespoints dt 2 title sprintf("delta, b %s", b), \
     f("onehot") every ::1 using N:(column(N) <= column(DK) ? 1 : column(DK) / column(N)) \
       smooth unique with lines lc "gray30" title "min(1, d_key / n)"

# 7. Forgetting (forgetting CSV: 9 items, 11 later, 15 cos, 16 se).
unset logscale x
set output sprintf("%s/forgetting.".ext, out)
set title "forgetting: segment 0 after s segments of 16 distractors (d_key 64)"
set xlabel "s, later segments"
set ylabel "cos(a, v) of segment 0's items"
set yrange [-1.02:1.02]
plot for [k in "1 4 16"] f("forgetting") every ::1 \
       using 11:(pick(is(RULE, "linear") && column(9) == k + 0, column(15))):16 \
       with yerrorlines title sprintf("gauss, linear, %s items", k), \
     for [k in "1 16"] f("forgetting") every ::1 \
       using 11:(pick(is(RULE, "delta") && column(9) == k + 0, column(15))):16 \
       with yerrorlines title sprintf("gauss, delta, %s items", k), \
     for [k in "1 16"] f("forgetting-sparse") every ::1 \
       using 11:(pick(is(RULE, "linear") && column(9) == k + 0, column(15))):16 \
       with yerrorlines title sprintf("sparse, linear, %s items", k), \
     for [k in "1 16"] f("forgetting-sparse") every ::1 \
       using 11:(pick(is(RULE, "delta") && column(9) == k + 0, column(15))):16 \
       with yerrorlines title sprintf("sparse, delta, %s items", k)

# 8. Needles (needles CSV: 9 needles, 10 depth, 11 length, 18 top1, 19 se).
set output sprintf("%s/needles.".ext, out)
set title "K needles in T segments of 16 tokens (d_key 64, sparse keys s 3 b 4)"
set xlabel "depth (0: first segment, 1: last)"
set ylabel "recall@1 among every value of the stream"
set yrange [-0.02:1.02]
plot for [t in "4 16 64"] f("needles-sparse") every ::1 \
       using 10:(pick(is(RULE, "linear") && column(9) == 1 && column(11) == t + 0, column(18))):19 \
       with yerrorlines title sprintf("linear, K 1, T %s", t), \
     for [t in "4 16 64"] f("needles-sparse") every ::1 \
       using 10:(pick(is(RULE, "delta") && column(9) == 1 && column(11) == t + 0, column(18))):19 \
       with yerrorlines dt 2 title sprintf("delta, K 1, T %s", t), \
     for [t in "4 16"] f("needles-sparse") every ::1 \
       using 10:(pick(is(RULE, "delta") && column(9) == 4 && column(11) == t + 0, column(18))) \
       with linespoints dt 3 title sprintf("delta, K 4, T %s", t)
