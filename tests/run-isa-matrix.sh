#!/usr/bin/env bash
# Runs the SIMD kernel tests on every vector path this machine can take: natively (AVX-512 where present),
# then with DOTNET_EnableAVX512=0 (256-bit), DOTNET_EnableAVX2=0 (128-bit) and DOTNET_EnableHWIntrinsic=0
# (scalar). The reruns are IsaMatrixTests, which starts this test executable again with each knob set
# (the list of SIMD test classes lives there); CI runs the same test as part of `dotnet test`.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build tests/Loom.Tests -c Release --nologo -v q
dll=tests/Loom.Tests/bin/Release/net10.0/Loom.Tests.dll
dotnet "$dll" -class Loom.Tests.Kernels.ElementwiseVectorTests -class Loom.Tests.Kernels.ReduceVectorTests \
  -class Loom.Tests.Kernels.FastKernelParityTests -class Loom.Tests.Kernels.FastReduceParityTests \
  -class Loom.Tests.Kernels.IsaMatrixTests
