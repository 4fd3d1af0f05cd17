#!/bin/bash
# The end-of-stop measurement behind docs/status.md (issues 4 and 8), run from the repository root after a Release build:
#   bench/scripts/final-runs.sh TAG        e.g. s38 -> docs/bench/models-DATE-s38x.json, -s38z.json, stream-models-DATE-s38.json
# Load times, the models bench (five models, then SqueezeNet and ResNet-50 again: their two-thread lines are the thin ones),
# the model streams and the StreamIt programs against the MIT rival. About an hour on the 2-core VM, most of it the FMA
# gate waiting for the second vCPU. Run nothing else meanwhile; `peak` between steps records the vCPUs' state.
set -u
tag=${1:?usage: final-runs.sh TAG}
shared=${LOOM_SHARED:-../shared}
L=$shared/onnx-backend-tests/light; M=$shared/models; day=$(date -u +%F)
B="dotnet bench/Loom.Bench/bin/Release/net10.0/Loom.Bench.dll"
quiet() { grep -v "onnxruntime:"; }
state() { date -u; $B peak | tail -2; }
state; $B load --runs 5 2>&1 | quiet
state; $B models $L/light_squeezenet.onnx $L/light_resnet50.onnx $L/light_inception_v1.onnx $L/light_densenet121.onnx \
    $M/ch_PP-OCRv4_det_infer.onnx --vs onnxruntime --threads 1,2 --runs 30 --gate 1.9 --json docs/bench/models-$day-${tag}x.json 2>&1 | quiet
state; $B stream-models --json docs/bench/stream-models-$day-$tag.json 2>&1 | quiet
state; $B models $L/light_squeezenet.onnx $L/light_resnet50.onnx --vs onnxruntime --threads 1,2 --runs 30 --gate 1.9 \
    --json docs/bench/models-$day-${tag}z.json 2>&1 | quiet
state; $B stream --cores 2 --seconds 1 --cpu 2>&1 | quiet
# Issue 4's batch-4 line covers every light model: the other five, two threads only.
state; $B models $L/light_inception_v2.onnx $L/light_shufflenet.onnx $L/light_bvlc_alexnet.onnx $L/light_zfnet512.onnx \
    $L/light_vgg19.onnx --vs onnxruntime --threads 2 --runs 10 --gate 1.9 --json docs/bench/models-$day-${tag}b4.json 2>&1 | quiet
state
