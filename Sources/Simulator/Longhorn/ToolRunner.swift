import Foundation

/// Runs e2fsprogs and friends with argument arrays (never a shell string) and reports their
/// output when they fail.
public enum ToolRunner {
    public struct Failure: Error, CustomStringConvertible {
        public var command: [String]
        public var status: Int32
        public var output: String
        public var description: String { "\(command.joined(separator: " ")) exited \(status): \(output.suffix(600))" }
    }

    public static func locate(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for folder in (path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]) {
            let candidate = "\(folder)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    @discardableResult
    public static func run(_ tool: String, _ arguments: [String], environment: [String: String] = [:]) async throws -> String {
        guard let executable = locate(tool) else {
            throw Failure(command: [tool] + arguments, status: 127, output: "\(tool) not found on PATH (Debian: apt-get install e2fsprogs)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Reading on another thread would not help here: these tools print little and exit.
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(command: [tool] + arguments, status: process.terminationStatus, output: output)
        }
        return output
    }
}
