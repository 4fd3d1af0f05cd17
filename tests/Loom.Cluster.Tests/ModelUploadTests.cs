using System.Security.Cryptography;
using Loom.Cluster.Codec;
using Loom.Cluster.Grains;
using Loom.Tests.Support;

namespace Loom.Cluster.Tests;

/// <summary>A silo that cannot read the client's model path gets the model uploaded, checked by hash.</summary>
public class ModelUploadTests(InProcessCluster fixture) : IClassFixture<InProcessCluster>
{
    [Fact]
    public async Task A_silo_without_the_model_file_receives_it_in_chunks_and_scores()
    {
        using var dir = new TempDir();
        ModelCache.Dir = dir.File("model-cache"); // the silos are in this process; a shared cache would remember earlier runs
        string model = ScoringData.TrainModel(dir, trees: 10);
        string sha = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(model)));
        // A path no silo has: as on a machine without the client's storage.
        var missing = new ModelRef(Path.Combine(dir.Path, "elsewhere", "model.txt"), sha, 0, 0);
        var silo = fixture.Cluster.SecondarySilos[0].SiloAddress;
        RequestContext.Set(Orleans.Runtime.Placement.IPlacementDirector.PlacementHintKey, silo);
        var grain = fixture.Cluster.Client.GetGrain<IModelGrain>(missing.GrainKey(silo.ToParsableString()));
        var first = await grain.Describe(missing);
        RequestContext.Remove(Orleans.Runtime.Placement.IPlacementDirector.PlacementHintKey);
        Assert.True(first.NeedsModel, first.Error);

        // A corrupted upload is refused by hash and leaves nothing usable behind.
        var wrong = missing with { Sha256 = new string('0', 64) };
        var refused = await Assert.ThrowsAsync<SiloModelException>(() => ModelCache.SendAsync(grain, wrong, model, 1000));
        Assert.Contains("do not have the client's SHA-256", refused.Message);

        long sent = await ModelCache.SendAsync(grain, missing, model, chunkBytes: 1000);
        Assert.Equal(new FileInfo(model).Length, sent);
        var described = await grain.Describe(missing);
        Assert.Null(described.Error);
        Assert.Equal(ScoringData.Cols, described.Description!.FeatureNames.Length);

        var x = ScoringData.Rows(50, 3);
        var reply = await grain.Score(missing, TensorCodec.Encode([(described.Description.Input, Tensor.FromArray(x, 50, ScoringData.Cols))]));
        Assert.Null(reply.Error);
        // The oracle: the same model converted by `loom convert` and run in a local session.
        using var session = LoomSession.Load(ConvertToOnnx(model, dir));
        using var expected = session.Run((session.Inputs[0].Name, Tensor.FromArray(x, 50, ScoringData.Cols)));
        Assert.Equal(expected[0].Value is Tensor t ? t.ToArray<float>() : [], TensorCodec.Decode(reply.Outputs)[0].Value.ToArray<float>());
    }

    private static string ConvertToOnnx(string model, TempDir dir)
    {
        var (exit, _, err) = CliRunner.Run("convert", model, "-o", dir.File("model.onnx"));
        Assert.True(exit == 0, err);
        return dir.File("model.onnx");
    }
}
