#!/usr/bin/env bash
# The papers' STL-versus-MTL comparison on the keypoint modality (Spathis, Kardaris and Maragos, "Multi-task
# Learning For Joint Action and Gesture Recognition"): kp_stgcn with hard sharing learning action and gesture
# jointly, against one model per task, with the same recipe (config/train/keypoints.yaml) and budget, 3 seeds each;
# test-split top-1 as mean ± std over the seeds (mtl-hri-eval --compare). Needs data/synth_large (mtl-hri-synth,
# see config/data/synthetic_large.yaml). A run with an eval.json is not redone, so the script resumes.
#   scripts/stl_vs_mtl_keypoints.sh [EPOCHS] [OUT]      # EPOCHS 4: about 75 min on a 2-core CPU
set -euo pipefail
epochs=${1:-4}
out=${2:-runs/stl_vs_mtl_kp}
bin=${BIN:-.venv/bin}
runs=()
for seed in 0 1 2; do
  for setting in "mtl:[action, gesture]" "stl_action:[action]" "stl_gesture:[gesture]"; do
    name=${setting%%:*}
    run=$out/${name}_seed$seed
    runs+=("$run")
    [ -f "$run/eval/eval.json" ] && continue
    "$bin/mtl-hri-train" --config config/train/keypoints.yaml --set "epochs=$epochs" "optim.cycle_epochs=$epochs" \
      "seed=$seed" "tasks=${setting#*:}" "out=$run" "name=kp_$name"
    "$bin/mtl-hri-eval" --model "$run/best" --data config/data/synthetic_large.yaml --split test --out "$run/eval"
  done
done
"$bin/mtl-hri-eval" --compare "${runs[@]}" --plot "$out/compare.png" | tee "$out/compare.txt"
