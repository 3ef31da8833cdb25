import ArgumentParser
import DRCore
import Foundation
import KubeClient

/// The `longhorn-dr` command: parses, wires and renders; the work happens in the library targets.
@main
struct LonghornDR: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "longhorn-dr",
        abstract: "Trustworthy Longhorn backups: a restore orchestrator for bootstrap and a DR exercise that proves it.",
        version: BuildInfo.version,
        subcommands: commands
    )

    static var commands: [any ParsableCommand.Type] {
        var commands: [any ParsableCommand.Type] = [
            VersionCommand.self, ConfigCommand.self, ExerciseCommand.self, RestoreCommand.self, BackupCommand.self,
            KubeconfigCommand.self, PreflightCommand.self, AssureCommand.self, ImageDigestCommand.self,
        ]
        #if Simulator
            commands.append(SimCommand.self)
        #endif
        return commands
    }

    /// Runs the command and maps every failure onto the exit-code table of `ExitStatus`.
    static func main() async {
        let status: ExitStatus
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            status = .ok
        } catch {
            status = report(error)
        }
        Foundation.exit(status.rawValue)
    }

    /// Prints an error the way its kind asks for and returns the exit status it stands for.
    static func report(_ error: any Error) -> ExitStatus {
        switch error {
        case let failure as DRError:
            Terminal.error(failure.description)
            return failure.status
        case let failure as ConfigError:
            Terminal.error(failure.asDRError.description)
            return .usage
        case let failure as ExitStatusError:
            return failure.status
        default:
            // Help, --version and argument errors come from ArgumentParser.
            let message = fullMessage(for: error)
            if exitCode(for: error) == .success {
                if !message.isEmpty { print(message) }
                return .ok
            }
            Terminal.error(message)
            return .usage
        }
    }
}

/// Ends a command with a given status after it has printed its own explanation.
struct ExitStatusError: Error {
    var status: ExitStatus
}

enum BuildInfo {
    static let version = "0.1.0"
}

/// Output helpers: results go to stdout, diagnostics to stderr.
enum Terminal {
    static func error(_ message: String) {
        let text = message.hasPrefix("error:") || message.hasPrefix("Error:") ? message : "error: \(message)"
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    static func note(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }

    /// Loads the kubeconfig the way kubectl does and says on stderr what it gives away
    /// (plain http to another machine, insecure-skip-tls-verify).
    static func loadCluster(kubeconfig: String?, context: String?) throws -> ResolvedCluster {
        let cluster = try KubeconfigLoader().load(.init(kubeconfigPath: kubeconfig, context: context))
        for warning in cluster.securityWarnings { note("warning: \(warning)") }
        return cluster
    }
}
