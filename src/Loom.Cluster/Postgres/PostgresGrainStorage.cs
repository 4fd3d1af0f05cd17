using System.Globalization;
using Npgsql;
using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Storage;

namespace Loom.Cluster.Postgres;

/// <summary>
/// Grain state in Loom's own table (<see cref="ClusterSchema.StateTable"/>): one row per state name and grain
/// id, the state serialized with Orleans' serializer (the types are <c>[GenerateSerializer]</c>, so fields can
/// be added later), and an integer version as the etag. A write or clear whose etag is not the stored version
/// throws <see cref="InconsistentStateException"/>, as Orleans expects.
/// </summary>
public sealed class PostgresGrainStorage(string connectionString, Serializer serializer) : IGrainStorage
{
    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        await using var conn = await PostgresMembershipTable.OpenAsync(connectionString);
        await using var cmd = new NpgsqlCommand($"SELECT payload, version FROM {ClusterSchema.StateTable} WHERE state_name = @n AND grain_id = @g", conn);
        Key(cmd, stateName, grainId);
        await using var r = await cmd.ExecuteReaderAsync();
        if (await r.ReadAsync())
        {
            grainState.State = serializer.Deserialize<T>(r.GetFieldValue<byte[]>(0));
            grainState.ETag = Etag(r.GetInt32(1));
            grainState.RecordExists = true;
        }
        else Reset(grainState);
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        byte[] payload = serializer.SerializeToArray(grainState.State);
        await using var conn = await PostgresMembershipTable.OpenAsync(connectionString);
        NpgsqlCommand cmd;
        if (grainState.ETag is null)
            cmd = new NpgsqlCommand($"INSERT INTO {ClusterSchema.StateTable} (state_name, grain_id, payload, version) VALUES (@n, @g, @p, 1) ON CONFLICT (state_name, grain_id) DO NOTHING RETURNING version", conn);
        else
        {
            cmd = new NpgsqlCommand($"UPDATE {ClusterSchema.StateTable} SET payload = @p, version = version + 1, written_at = now() WHERE state_name = @n AND grain_id = @g AND version = @v RETURNING version", conn);
            cmd.Parameters.AddWithValue("v", ParseEtag(grainState.ETag));
        }
        await using (cmd)
        {
            Key(cmd, stateName, grainId);
            cmd.Parameters.AddWithValue("p", payload);
            if (await cmd.ExecuteScalarAsync() is not int version)
                throw await ConflictAsync(conn, "write", stateName, grainId, grainState.ETag);
            grainState.ETag = Etag(version);
            grainState.RecordExists = true;
        }
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        await using var conn = await PostgresMembershipTable.OpenAsync(connectionString);
        if (grainState.ETag is not null)
        {
            await using var cmd = new NpgsqlCommand($"DELETE FROM {ClusterSchema.StateTable} WHERE state_name = @n AND grain_id = @g AND version = @v", conn);
            Key(cmd, stateName, grainId);
            cmd.Parameters.AddWithValue("v", ParseEtag(grainState.ETag));
            if (await cmd.ExecuteNonQueryAsync() != 1) throw await ConflictAsync(conn, "clear", stateName, grainId, grainState.ETag);
        }
        else if (await StoredVersionAsync(conn, stateName, grainId) is not null)
            throw await ConflictAsync(conn, "clear", stateName, grainId, null);
        Reset(grainState);
    }

    private static void Reset<T>(IGrainState<T> grainState)
    {
        grainState.State = CreateDefault<T>();
        grainState.ETag = null;
        grainState.RecordExists = false;
    }

    private static T CreateDefault<T>() =>
        typeof(T).IsValueType || typeof(T).GetConstructor(Type.EmptyTypes) is not null ? Activator.CreateInstance<T>() : default!;

    private static async Task<InconsistentStateException> ConflictAsync(NpgsqlConnection conn, string what, string stateName, GrainId grainId, string? etag)
    {
        int? stored = await StoredVersionAsync(conn, stateName, grainId);
        string storedText = stored is { } s ? Etag(s) : "none";
        return new InconsistentStateException($"{what} of grain state '{stateName}' of {grainId}: expected version {etag ?? "none"}, stored {storedText}", storedText, etag ?? "none");
    }

    private static async Task<int?> StoredVersionAsync(NpgsqlConnection conn, string stateName, GrainId grainId)
    {
        await using var cmd = new NpgsqlCommand($"SELECT version FROM {ClusterSchema.StateTable} WHERE state_name = @n AND grain_id = @g", conn);
        Key(cmd, stateName, grainId);
        return await cmd.ExecuteScalarAsync() as int?;
    }

    private static void Key(NpgsqlCommand cmd, string stateName, GrainId grainId)
    {
        cmd.Parameters.AddWithValue("n", stateName);
        cmd.Parameters.AddWithValue("g", grainId.ToString());
    }

    private static string Etag(int version) => version.ToString(CultureInfo.InvariantCulture);

    private static int ParseEtag(string etag) =>
        int.TryParse(etag, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v : throw new InconsistentStateException($"grain state etag '{etag}' is not one this storage wrote", "none", etag);
}
