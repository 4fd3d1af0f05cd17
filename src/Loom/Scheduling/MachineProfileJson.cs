using System.Text.Json.Serialization;

namespace Loom.Scheduling;

/// <summary>
/// Source-generated JSON for the machine-profile cache: reflection-based System.Text.Json cost a fresh process ~50 ms of
/// CPU and ~200 JIT-compiled methods to read one small file on every first load.
/// </summary>
[JsonSerializable(typeof(MachineProfile))]
internal sealed partial class MachineProfileJson : JsonSerializerContext;
