import Foundation
import ProcessRunner

/// Runs e2fsprogs and friends with argument arrays (never a shell string) and reports their
/// output when they fail.
public enum ToolRunner {
    public struct Failure: Error, CustomStringConvertible {
        public var command: [String]
        public var status: Int32
        public var output: String
        public var description: String { "\(command.joined(separator: " ")) exited \(status): \(output.suffix(600))" }
    }

    public static func locate(_ name: String) -> String? { ToolLocator.locate(name) }

    /// - Returns: standard output and standard error, in order.
    @discardableResult
    public static func run(_ tool: String, _ arguments: [String], environment: [String: String] = [:]) async throws -> String {
        guard let executable = locate(tool) else {
            throw Failure(command: [tool] + arguments, status: 127, output: "\(tool) not found on PATH (Debian: apt-get install e2fsprogs)")
        }
        let outcome: ProcessOutcome
        do {
            outcome = try await ProcessRunner.run(
                ProcessRequest(
                    executable: executable, arguments: arguments,
                    environment: ProcessInfo.processInfo.environment.merging(environment) { $1 }, standardError: .intoStandardOutput, grace: .seconds(2)))
        } catch {
            throw Failure(command: [tool] + arguments, status: 126, output: error.description)
        }
        let output = String(decoding: outcome.standardOutput, as: UTF8.self)
        guard outcome.status == 0 else { throw Failure(command: [tool] + arguments, status: outcome.status, output: output) }
        return output
    }
}
