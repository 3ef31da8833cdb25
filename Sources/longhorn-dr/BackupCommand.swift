import AWS
import ArgumentParser
import Backupstore
import BackupstoreS3
import ClusterExercise
import DRCore
import Foundation

struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Work with Longhorn backups in their backup store.",
        subcommands: [BackupVerifyCommand.self, BackupListCommand.self])
}

/// `longhorn-dr backup verify`: reads a backup straight from S3, through a path that does not
/// depend on the cluster that wrote it, and checks every block.
struct BackupVerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify a Longhorn backup straight from its S3 backup store.",
        discussion: """
            Reads volume.cfg and the backup cfg, fetches every listed block (bounded parallelism), \
            decompresses it and checks its SHA-512 against its name, and rebuilds the volume image as a \
            sparse temporary file. With --file, extracts that file from the image's ext4 filesystem \
            (e2fsprogs debugfs) and prints its SHA-256. Without --backup the newest completed backup is used.
            Exit status: 0 verified, 1 verification failed (missing, truncated or corrupt block; \
            no such backup or file), 2 bad arguments, 3 credentials or tools missing, 4 store unreachable.
            """)

    enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
        case text
        case json
    }

    @Option(help: ArgumentHelp("The Longhorn backup target.", valueName: "s3://bucket@region/path/"))
    var target: String

    @Option(help: "The Longhorn volume name (the backup volume).")
    var volume: String

    @Option(help: "The backup name (default: the newest completed backup).")
    var backup: String?

    @Option(help: ArgumentHelp("A file inside the volume's ext4 filesystem whose SHA-256 to print.", valueName: "path"))
    var file: String?

    @Option(help: "text or json.")
    var output: OutputFormat = .text

    @Option(help: "Blocks fetched and checked at once; memory use is about this many blocks.")
    var parallelism = 8

    @Option(help: ArgumentHelp("A custom S3 endpoint (default: the Secret's or environment's AWS_ENDPOINTS).", valueName: "url"))
    var endpoint: String?

    @Option(help: ArgumentHelp("Where the temporary image is rebuilt (default: $TMPDIR).", valueName: "dir"))
    var workDir: String?

    @OptionGroup var aws: AWSOptions
    @OptionGroup var secretOptions: SecretOptions

    func validate() throws {
        guard (1...64).contains(parallelism) else {
            throw ValidationError("--parallelism must be between 1 and 64; got \(parallelism)")
        }
        if let file { try Ext4FileExtractor.validate(file) }
    }

    func run() async throws {
        let started = ContinuousClock.now
        do {
            let report = try await verify()
            let elapsed = ContinuousClock.now - started
            render(report, elapsed: elapsed)
        } catch {
            let failure = FailureMapping.drError(error)
            if output == .json {
                print(VerifyReport.failureJSON(failure, error: error, target: target, volume: volume, backup: backup))
            }
            throw failure
        }
    }

    private func verify() async throws -> VerifyReport {
        let location = try S3Location(parsing: target)
        let access = try await aws.storeAccess(location: location, endpoint: endpoint, secretOptions: secretOptions)
        let verification = BackupVerification(
            volume: volume, backup: backup, file: file, parallelism: parallelism,
            workDirectory: workDir.map { URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath) })
        let progress = ProgressLine(label: "verifying \(volume)/\(backup ?? "newest backup")")
        var callback: (@Sendable (BackupReader.Progress) -> Void)?
        if progress.isEnabled { callback = { progress.update($0) } }
        let source = access.credentials.source
        return try await access.withStore { (opened: OpenedStore) async throws -> VerifyReport in
            if let warning = opened.warning { Terminal.note(warning) }
            let report = try await verification.run(in: opened, credentialsSource: source, progress: callback)
            progress.finish()
            return report
        }
    }

    private func render(_ report: VerifyReport, elapsed: Duration) {
        switch output {
        case .json:
            print(report.json(elapsed: elapsed))
        case .text:
            print(report.text(elapsed: elapsed))
        }
    }
}
