import DRCore
import Foundation
import ProcessRunner

/// Runs the exercise's own commands (destroy, rebuild, a kubeconfig command) from argument arrays,
/// never through a shell. Output goes to standard error as it comes, so the operator watches
/// terraform or talosctl work.
///
/// Each command runs in a process group of its own. Cancelling the calling task (a phase out of
/// budget, Ctrl-C) sends SIGTERM to the whole group (task, terragrunt, terraform, providers), then
/// SIGKILL after `grace`; the call returns only once the command has ended. A wrapper that traps
/// SIGTERM (Task does) cannot leave terragrunt running on behind the exercise's back.
///
/// Runs through `ProcessRunner`, the project's one way to start a process.
enum CommandRunner {
    /// How long a cancelled command's group gets between SIGTERM and SIGKILL.
    static let defaultGrace: Duration = .seconds(30)

    /// Set for every command: terragrunt asks its own questions (which -auto-approve does not
    /// answer) and standard input is /dev/null, so an unanswered prompt would fail the phase.
    static let environment = ["TG_NON_INTERACTIVE": "true", "TERRAGRUNT_NON_INTERACTIVE": "true"]

    /// Runs `argv` to completion, its output shown live.
    static func run(_ argv: [String], purpose: String, grace: Duration = defaultGrace) async throws {
        _ = try await execute(argv, purpose: purpose, captureOutput: false, grace: grace)
    }

    /// Runs `argv` and returns its standard output (not shown: it may hold credentials). With
    /// `quiet`, its standard error is dropped too (a tool's banner).
    static func output(_ argv: [String], purpose: String, quiet: Bool = false, grace: Duration = defaultGrace) async throws -> Data {
        try await execute(argv, purpose: purpose, captureOutput: true, quiet: quiet, grace: grace)
    }

    private static func execute(_ argv: [String], purpose: String, captureOutput: Bool, quiet: Bool = false, grace: Duration) async throws -> Data {
        guard let name = argv.first, !name.isEmpty else {
            throw DRError(.usage, subject: "the \(purpose) command", detail: "is empty", hint: "set it in the exercise config as an argument list")
        }
        guard let executable = ToolLocator.locate(name) else {
            throw DRError(
                .environment, subject: "the \(purpose) command \(name)", detail: "is not found on PATH",
                hint: "install it, or give its full path in the exercise config")
        }
        let request = ProcessRequest(
            executable: executable, arguments: Array(argv.dropFirst()),
            environment: ProcessInfo.processInfo.environment.merging(environment) { _, new in new },
            standardOutput: captureOutput ? .capture : .standardError, standardError: quiet ? .discard : .standardError, grace: grace,
            // A command that leaves a daemon holding its output open must not hold the exercise.
            drainLimit: .seconds(5))
        let outcome: ProcessOutcome
        do {
            outcome = try await ProcessRunner.run(request)
        } catch {
            throw DRError(.environment, subject: "the \(purpose) command \(name)", detail: "cannot start: \(error.reason)")
        }
        guard outcome.status == 0 else {
            throw DRError(
                .infrastructure, subject: "the \(purpose) command (\(CommandText.redacted(argv)))",
                detail: outcome.signal.map { "was killed by signal \($0)" } ?? "exited with status \(outcome.status)",
                hint: "its output is above; fix the cause, then run the exercise again with --resume")
        }
        return outcome.standardOutput
    }
}
