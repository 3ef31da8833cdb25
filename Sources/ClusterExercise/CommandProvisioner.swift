import DRCore
import Foundation
import ProcessRunner

/// A real cluster: reached through the config's kubeconfig source (file, command or SSM),
/// destroyed and rebuilt by the configured commands (argument arrays, never a shell), each
/// stopped with its whole process group when its phase's budget ends or the run is cancelled.
public struct CommandProvisioner: ClusterProvisioner {
    let config: ExerciseConfig
    let workDirectory: URL
    let log: @Sendable (String) -> Void

    public init(config: ExerciseConfig, workDirectory: URL, log: @escaping @Sendable (String) -> Void) {
        self.config = config
        self.workDirectory = workDirectory
        self.log = log
    }

    public func connect() async throws -> ClusterConnection {
        let (cluster, warnings) = try await KubeconfigResolver.resolve(
            config.cluster.kubeconfig, context: config.cluster.context, aws: config.aws,
            allowExec: config.cluster.allowExec, workDirectory: workDirectory)
        return ClusterConnection(cluster: cluster, warnings: warnings)
    }

    /// Both commands must be installed; a Task command's task must resolve (`task --dry` prints
    /// its commands and runs none).
    public func preflightProblems() async -> [String] {
        var problems: [String] = []
        for (purpose, argv) in [("destroy", config.cluster.destroy), ("rebuild", config.cluster.rebuild)] {
            guard let name = argv.first, ToolLocator.locate(name) != nil else {
                problems.append(
                    "the \(purpose) command \(argv.first ?? "(empty)") is not found on PATH (install it, or give its full path in cluster.\(purpose))")
                continue
            }
            if (name as NSString).lastPathComponent == "task" {
                let dry = [name, "--dry"] + argv.dropFirst()
                log("  checking: \(CommandText.redacted(dry))")
                do {
                    _ = try await CommandRunner.output(dry, purpose: "\(purpose) dry run", grace: config.budgets.stopGrace)
                } catch {
                    problems.append(
                        "the \(purpose) task does not resolve (\(CommandText.redacted(dry)) failed; its output is above): \(ClusterExerciseEnvironment.firstLine(error))"
                    )
                }
            }
        }
        return problems
    }

    public func destroy() async throws {
        log("  running: \(CommandText.redacted(config.cluster.destroy))")
        try await CommandRunner.run(config.cluster.destroy, purpose: "destroy", grace: config.budgets.stopGrace)
    }

    public func rebuild() async throws {
        log("  running: \(CommandText.redacted(config.cluster.rebuild))")
        try await CommandRunner.run(config.cluster.rebuild, purpose: "rebuild", grace: config.budgets.stopGrace)
    }

    public func shutdown() async {}
}
