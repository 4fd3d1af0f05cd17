using Loom.Conformance;
using Loom.Import.Onnx;
using Loom.IR;
using Loom.Tests.Support;
using Loom.Tests.Trees;
using Microsoft.ML.OnnxRuntime;
using Attr = Loom.IR.Attribute;

namespace Loom.Tests.Kernels;

/// <summary>ZipMap's sequence of maps: by hand, against ONNX Runtime behind a tree classifier, through protobuf files and <c>loom run</c>.</summary>
public class MlZipMapTests
{
    private static MapSequence ZipMap(Attr labels, Tensor x)
    {
        var model = OpTester.BuildModel("ZipMap", [labels], 1, 1, "ai.onnx.ml", x);
        using var session = LoomSession.Create(model, new LoomSessionOptions { VerifyInferredShapes = true });
        Assert.Equal("seq<map<" + (labels.Name.EndsWith("strings") ? "string" : "int64") + ",float32[*]>>", session.Outputs[0].Type!.ToString());
        using var result = session.Run(("in0", x));
        return Assert.IsType<MapSequence>(result[0].Value);
    }

    [Fact]
    public void String_labels_give_one_map_per_row()
    {
        var maps = ZipMap(Attr.Strings("classlabels_strings", ["cat", "dog", "eel"]), OpTester.F([0.1f, 0.7f, 0.2f, 1, 0, -3], 2, 3));
        Assert.Equal(2, maps.Count);
        Assert.Equal(["cat", "dog", "eel"], maps[0].StringKeys);
        Assert.Equal([0.1f, 0.7f, 0.2f], maps[0].Values);
        Assert.Equal([1f, 0f, -3f], maps[1].Values);
        Assert.Equal(DataType.String, maps.KeyType);
    }

    [Fact]
    public void Int64_labels_and_a_one_dimensional_input()
    {
        var maps = ZipMap(Attr.Ints("classlabels_int64s", [7, -1]), OpTester.F([0.25f, 0.75f], 2));
        var map = Assert.Single(maps.Items);
        Assert.Equal([7L, -1L], map.LongKeys);
        Assert.Equal([0.25f, 0.75f], map.Values);
    }

    [Fact]
    public void Label_count_must_match_the_columns()
    {
        var model = OpTester.BuildModel("ZipMap", [Attr.Ints("classlabels_int64s", [1, 2, 3])], 1, 1, "ai.onnx.ml", OpTester.F([1, 2], 1, 2));
        using var session = LoomSession.Create(model);
        var e = Assert.Throws<ExecutionException>(() => session.Run(("in0", OpTester.F([1, 2], 1, 2))));
        Assert.Contains("2 columns but there are 3 class labels", e.Message);
    }

    /// <summary>A tree classifier whose scores feed ZipMap, the way sklearn-onnx exports classifiers.</summary>
    private static byte[] ClassifierWithZipMap(bool stringLabels)
    {
        var attrs = OnnxMlTreeTests.RandomTrees(new Random(4), 6, OnnxMlTreeTests.Modes[..4], "class_", 3, oneTargetPerLeaf: false, positive: true);
        var labels = stringLabels ? Attr.Strings("classlabels_strings", ["a", "b", "c"]) : Attr.Ints("classlabels_int64s", [10, 20, 30]);
        attrs.AddRange([labels, Attr.String("post_transform", "SOFTMAX")]);
        var n = Dim.Symbol("N");
        var key = stringLabels ? DataType.String : DataType.Int64;
        var graph = new Graph("g", [new ValueInfo("X", new TensorType(DataType.Float, new Shape([n, Dim.Of(OnnxMlTreeTests.Features)])))],
            [new ValueInfo("label", new TensorType(key, new Shape([n]))), new ValueInfo("probabilities", new SequenceType(MapValue.ValueType(key)))],
            [
                new Node("TreeEnsembleClassifier", ["X"], ["label", "scores"], attrs, "trees", "ai.onnx.ml"),
                new Node("ZipMap", ["scores"], ["probabilities"], [labels], "zipmap", "ai.onnx.ml"),
            ]);
        return OnnxExporter.ToBytes(new Model(graph, new Dictionary<string, int> { [""] = 13, ["ai.onnx.ml"] = 3 }, irVersion: 8));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Matches_onnx_runtime_behind_a_tree_classifier(bool stringLabels)
    {
        var bytes = ClassifierWithZipMap(stringLabels);
        const int rows = 40;
        var x = OnnxMlTreeTests.Inputs(new Random(8), rows);
        using var ort = new InferenceSession(bytes);
        using var ortOut = ort.Run([NamedOnnxValue.CreateFromTensor("X", new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(x, [rows, OnnxMlTreeTests.Features]))]);
        var ortMaps = ortOut.First(o => o.Name == "probabilities").AsEnumerable<DisposableNamedOnnxValue>().ToList();

        using var session = LoomSession.Load(bytes, new LoomSessionOptions { VerifyInferredShapes = true });
        using var result = session.Run(("X", Tensor.FromArray(x, rows, OnnxMlTreeTests.Features)));
        var maps = Assert.IsType<MapSequence>(result["probabilities"]);
        Assert.Equal(ortMaps.Count, maps.Count);
        for (int r = 0; r < rows; r++)
        {
            var expected = stringLabels
                ? ortMaps[r].AsDictionary<string, float>().Select(kv => (kv.Key, kv.Value)).ToList()
                : ortMaps[r].AsDictionary<long, float>().Select(kv => (kv.Key.ToString(), kv.Value)).ToList();
            Assert.Equal(expected.Select(e => e.Item1).Order(), Enumerable.Range(0, maps[r].Count).Select(maps[r].KeyText).Order());
            foreach (var (label, value) in expected)
            {
                int i = Enumerable.Range(0, maps[r].Count).First(k => maps[r].KeyText(k) == label);
                Assert.True(Math.Abs(maps[r].Values[i] - value) <= 1e-5, $"row {r} '{label}': loom {maps[r].Values[i]} vs ort {value}");
            }
        }
    }

    [Fact]
    public void Protobuf_round_trip_and_comparison()
    {
        var maps = new MapSequence(DataType.String, [new MapValue(["x", "y"], [1f, 2f]), new MapValue(["x", "y"], [3f, float.NaN])]);
        var back = ValueProtos.Read(ValueProtos.Write(maps, "p"), maps.Type, "p.pb");
        Assert.Null(ValueComparer.Compare(back, maps, 0, 0));
        var ints = new MapSequence(DataType.Int64, [new MapValue([4L, 5L], [0.5f, 0.25f])]);
        Assert.Null(ValueComparer.Compare(ValueProtos.Read(ValueProtos.Write(ints), ints.Type, "i.pb"), ints, 0, 0));
        var off = new MapSequence(DataType.String, [new MapValue(["x", "y"], [1f, 2.5f]), maps[1]]);
        Assert.Contains("map 0: value of 'y'", ValueComparer.Compare(off, maps, 1e-5, 1e-5));
    }

    [Fact]
    public void Loom_run_prints_maps()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("zip.onnx"), ClassifierWithZipMap(stringLabels: true));
        var (exit, output, err) = CliRunner.Run("run", dir.File("zip.onnx"), "--dim", "N=2");
        Assert.True(exit == 0, err);
        Assert.Contains("probabilities: seq<map<string,float32[*]>> of 2 maps", output);
        Assert.Matches(@"\[0\] \{""a"": [0-9.e-]+, ""b"": [0-9.e-]+, ""c"": [0-9.e-]+\}", output);
        // --out writes maps as a SequenceProto (int64 labels here: string tensors have no .npy form).
        File.WriteAllBytes(dir.File("zip64.onnx"), ClassifierWithZipMap(stringLabels: false));
        (exit, output, err) = CliRunner.Run("run", dir.File("zip64.onnx"), "--dim", "N=2", "--out", dir.File("out"));
        Assert.True(exit == 0, err);
        var written = ValueProtos.ReadFile(dir.File("out/probabilities.pb"), new SequenceType(MapValue.ValueType(DataType.Int64)));
        Assert.Equal(2, Assert.IsType<MapSequence>(written).Count);
    }
}
