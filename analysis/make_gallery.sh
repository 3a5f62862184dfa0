#!/usr/bin/env bash
# Regenerates the README gallery (analysis/gallery/*.png): one figure of each
# `bitcycle plot` kind, from shipped configs and validation files. Every figure
# is made by the command printed before it; the runs' reports and the sweep's
# results.csv go to a scratch folder (GALLERY_WORK, default a temporary one).
#
#   analysis/make_gallery.sh            # about two minutes on two cores
#
# The design-space figures (pareto, heatmap) come from `bitcycle sweep` and its
# results.csv; the others from run reports and validation files.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/analysis/gallery"
WORK="${GALLERY_WORK:-$(mktemp -d)}"
BC="$ROOT/bitcycle"
HW="$ROOT/configs/hw"
mkdir -p "$OUT" "$WORK/scaling"
"$BC" build >/dev/null  # once; the commands below skip set-up and build
export BITCYCLE_NO_BUILD=1

say() { printf '+ %s\n' "$*" >&2; }
run() { say "bitcycle run $*"; "$BC" run -q "$@"; }
plot() { say "bitcycle plot $*"; "$BC" plot "$@"; }

# Llama-3.1-8B decode, W4A8, batch 8, context 4096 on the three 28 nm
# iso-area datapaths (MAC int8, LUT tensor core, BitMoD bit-serial).
DP=(mac-int8-28nm-iso-area lut-tc-28nm-iso-area bitmod-28nm-iso-area)
for c in "${DP[@]}"; do
  run "$HW/$c.yaml" --quant w4a8 --batch 8 --json "$WORK/$c.json"
done
plot breakdown "$WORK/mac-int8-28nm-iso-area.json" "$WORK/lut-tc-28nm-iso-area.json" \
  "$WORK/bitmod-28nm-iso-area.json" --by op -o "$OUT/breakdown.png"

# Area of the four 28 nm datapaths at iso area (area does not depend on the
# workload; the fp16 chip's 16 GB of DRAM do not hold Llama-3.1-8B in fp16, so
# its report comes from a smaller model).
run "$HW/mac-fp16-28nm-iso-area.yaml" --quant w16a16 --model llama-3.1-minitron-4b-width \
  --json "$WORK/mac-fp16-28nm-iso-area.json"
plot area "$WORK/mac-fp16-28nm-iso-area.json" "$WORK/mac-int8-28nm-iso-area.json" \
  "$WORK/lut-tc-28nm-iso-area.json" "$WORK/bitmod-28nm-iso-area.json" -o "$OUT/area.png"

# Roofline: Llama-3.1-8B prefill of 512 tokens (W8A8) on the reference chip.
run "$HW/default.yaml" --phase prefill --seq 512 --json "$WORK/prefill.json"
plot roofline "$WORK/prefill.json" -o "$OUT/roofline.png"

# A small design-space sweep of the reference chip (configs/sweeps/gallery.yaml):
# mesh, SRAM per core and HBM bandwidth; Llama-3.1-8B decode, W4A8, batch 8.
say "bitcycle sweep configs/sweeps/gallery.yaml -j 2 --out $WORK/sweep"
"$BC" sweep "$ROOT/configs/sweeps/gallery.yaml" -j 2 --out "$WORK/sweep" >/dev/null
plot pareto "$WORK/sweep/results.csv" --x token_latency_s --y energy_per_token_j \
  --label-by noc.mesh.x,noc.mesh.y,core.sram.size,memory.dram.bandwidth -o "$OUT/pareto.png"
plot heatmap "$WORK/sweep/results.csv" --x core.sram.size --y noc.mesh.x \
  --where noc.mesh.y=4 --where memory.dram.bandwidth=3350000000000 \
  --metric token_latency_s -o "$OUT/heatmap.png"

# Scaling: decode throughput vs batch (context 1024: batch 64 fits in 16 GB),
# one line per datapath.
for c in "${DP[@]}"; do
  for b in 1 4 16 64; do
    run "$HW/$c.yaml" --quant w4a8 --batch $b --context 1024 --json "$WORK/scaling/${c}_b$b.json"
  done
done
plot scaling "$WORK"/scaling/*.json --x batch --metric tokens_per_s -o "$OUT/scaling.png"

# Validation: the GEMM, attention and time-to-first-token reference files.
first=1
for v in a100_gemm h100_gemm h100_attention llm_ttft; do
  say "bitcycle validate tests/validation/$v.csv --csv $WORK/$v.csv"
  "$BC" validate "$ROOT/tests/validation/$v.csv" --csv "$WORK/$v.csv" >/dev/null
  if [ $first = 1 ]; then cat "$WORK/$v.csv"; first=0; else tail -n +2 "$WORK/$v.csv"; fi
done >"$WORK/validation.csv"
plot validation "$WORK/validation.csv" -o "$OUT/validation.png"

say "gallery written to $OUT (work files in $WORK)"
