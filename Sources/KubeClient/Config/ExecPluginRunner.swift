import Foundation
import ProcessRunner

/// Runs one credential-plugin process: argument array (never a shell string), explicit environment,
/// no standard input, stdout and stderr captured, its whole process group stopped when it runs
/// past its time (through `ProcessRunner`, the project's one way to start a process).
struct ExecPluginRunner: Sendable {
    struct Outcome: Sendable {
        var status: Int32
        var timedOut: Bool
        var stdout: Data
        var stderr: Data
    }

    var timeout: Duration
    /// Time between SIGTERM and SIGKILL when the plugin overruns.
    var killGrace: Duration = .seconds(2)
    /// How long to keep reading output after the plugin exited. A child the plugin left behind may
    /// hold the pipes open; we do not wait for it.
    var drainLimit: Duration = .seconds(1)

    /// - Throws: `ProcessStartError` when the executable cannot be started.
    func run(executable: String, arguments: [String], environment: [String: String]) async throws -> Outcome {
        let outcome = try await ProcessRunner.run(
            ProcessRequest(
                executable: executable, arguments: arguments, environment: environment,
                timeout: timeout, grace: killGrace, drainLimit: drainLimit))
        return Outcome(status: outcome.status, timedOut: outcome.timedOut, stdout: outcome.standardOutput, stderr: outcome.standardError)
    }
}
