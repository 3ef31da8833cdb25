import Foundation
import ProcessRunner
import Subprocess

#if canImport(System)
    import System
#else
    import SystemPackage
#endif

/// Three workloads, each run with ProcessRunner and with swift-subprocess in alternation, the
/// best of `rounds` kept: many short commands one after another, many at once, and one command
/// with a large output captured.
let rounds = Int(ProcessInfo.processInfo.environment["ROUNDS"] ?? "") ?? 5
let sequential = 300
let concurrent = 16
let perTask = 20
let bigOutput = 64 << 20

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func best(_ body: () async throws -> Void) async throws -> Double {
    var fastest = Double.infinity
    for _ in 0..<rounds {
        let start = ContinuousClock.now
        try await body()
        fastest = min(fastest, seconds(ContinuousClock.now - start))
    }
    return fastest
}

struct Failure: Error, CustomStringConvertible { var description: String }

func runnerTrue() async throws {
    let outcome = try await ProcessRunner.run(ProcessRequest(executable: "/bin/true", standardOutput: .discard, standardError: .discard))
    guard outcome.succeeded else { throw Failure(description: "ProcessRunner: /bin/true failed") }
}

func subprocessTrue() async throws {
    let result = try await Subprocess.run(.path(FilePath("/bin/true")), output: .discarded, error: .discarded)
    guard result.terminationStatus.isSuccess else { throw Failure(description: "Subprocess: /bin/true failed") }
}

func runnerBig() async throws {
    let outcome = try await ProcessRunner.run(
        ProcessRequest(
            executable: "/usr/bin/head", arguments: ["-c", String(bigOutput), "/dev/zero"],
            standardError: .discard))
    guard outcome.standardOutput.count == bigOutput else { throw Failure(description: "ProcessRunner: short output") }
}

func subprocessBig() async throws {
    let result = try await Subprocess.run(
        .path(FilePath("/usr/bin/head")), arguments: ["-c", String(bigOutput), "/dev/zero"],
        output: .bytes(limit: bigOutput + 1), error: .discarded)
    guard result.standardOutput.count == bigOutput else { throw Failure(description: "Subprocess: short output") }
}

func many(_ one: @escaping @Sendable () async throws -> Void) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<concurrent { group.addTask { for _ in 0..<perTask { try await one() } } }
        try await group.waitForAll()
    }
}

var rows: [(String, Double, Double)] = []
rows.append(
    (
        "\(sequential) × /bin/true, one after another",
        try await best { for _ in 0..<sequential { try await runnerTrue() } },
        try await best { for _ in 0..<sequential { try await subprocessTrue() } }
    ))
rows.append(
    (
        "\(concurrent) tasks × \(perTask) × /bin/true at once",
        try await best { try await many(runnerTrue) },
        try await best { try await many(subprocessTrue) }
    ))
rows.append(
    (
        "64 MiB of output captured",
        try await best { try await runnerBig() },
        try await best { try await subprocessBig() }
    ))

print("process spawn: best of \(rounds) rounds each (release build)")
print("  workload                                        ProcessRunner  swift-subprocess  ratio (subprocess / runner)")
for (name, runner, subprocess) in rows {
    print(
        "  \(name.padding(toLength: 46, withPad: " ", startingAt: 0))  \(String(format: "%9.3f s", runner))  \(String(format: "%12.3f s", subprocess))   \(String(format: "%.2f", subprocess / runner))"
    )
}
