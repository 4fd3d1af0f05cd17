namespace Loom.Cluster.Grains;

/// <summary>
/// A model loaded on one silo (key: <see cref="ModelRef.GrainKey"/>). Placed on the silo named in the key
/// with Orleans' placement hint and reentrant, so the silo's cores score chunks in parallel through one
/// shared <see cref="LoomSession"/>.
/// </summary>
public interface IModelGrain : IGrainWithStringKey
{
    /// <summary>Loads the model if needed and describes its input and outputs.</summary>
    Task<ScoreReply> Describe(ModelRef model);

    /// <summary>Scores one chunk: a codec message holding the features [rows, F]; the reply holds the outputs.</summary>
    Task<ScoreReply> Score(ModelRef model, byte[] features);

    /// <summary>
    /// Receives the model file in chunks (each below Orleans' message limit) into the silo's model cache,
    /// checked against <see cref="ModelRef.Sha256"/> when <paramref name="last"/> arrives.
    /// </summary>
    Task<ScoreReply> Upload(ModelRef model, long offset, byte[] chunk, bool last);

    /// <summary>The silo this activation runs on, and its cores.</summary>
    Task<SiloInfo> Info();
}
