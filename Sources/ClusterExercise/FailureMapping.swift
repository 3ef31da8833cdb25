import AWS
import Backupstore
import DRCore
import Foundation
import KubeClient

/// Turns the adapters' errors into a `DRError` (keeping the original as its `cause`) with the exit status of the project's table:
/// 1 the backup failed verification, 2 bad arguments, 3 credentials/tools/preconditions missing,
/// 4 the store or endpoint cannot be used.
public enum FailureMapping {
    public static func drError(_ error: any Error) -> DRError {
        switch error {
        case let error as DRError:
            return error
        case let error as BackupstoreError:
            return backupstore(error)
        case let error as AWSError:
            return DRError(status(aws: error), subject: error.subject ?? "AWS", detail: error.detail, hint: error.hint, cause: error)
        case let error as KubeClientError:
            let status: ExitStatus = error.code == .transport || error.code == .timeout ? .infrastructure : .environment
            return DRError(status, subject: error.subject, detail: error.detail, hint: error.hint, cause: error)
        case let error as KubeconfigError:
            return DRError(.environment, subject: "kubeconfig", detail: error.description, cause: error)
        default:
            return DRError(.infrastructure, subject: "longhorn-dr", detail: "\(error)", cause: error)
        }
    }

    /// The AWS error behind a Backupstore error, if a store call failed.
    public static func awsCause(_ error: BackupstoreError) -> AWSError? {
        var current: (any Error)? = error.underlying
        while let next = current {
            if let aws = next as? AWSError { return aws }
            current = (next as? BackupstoreError)?.underlying
        }
        return nil
    }

    private static func backupstore(_ error: BackupstoreError) -> DRError {
        let subject = error.subject ?? "backup store"
        if let aws = awsCause(error), error.code != .notFound, error.code != .blockMissing {
            // A store failure: the AWS code decides (wrong keys = 3, bucket/endpoint = 4).
            var detail = aws.detail
            if let key = error.key, !detail.contains(key), !subject.contains(key) { detail += " (key \(key))" }
            return DRError(status(aws: aws), subject: subject, detail: detail, hint: aws.hint ?? error.hint, cause: error)
        }
        let status: ExitStatus
        switch error.code {
        case .invalidArgument: status = .usage
        case .io: status = .infrastructure
        default: status = .verificationFailed
        }
        return DRError(status, subject: subject, detail: "\(error.code): \(error.detail)", hint: error.hint, cause: error)
    }

    public static func status(aws error: AWSError) -> ExitStatus {
        switch error.code {
        case .invalidBackupTargetURL, .invalidEndpoint, .invalidRequest:
            return .usage
        case .noCredentials, .incompleteCredentials, .invalidSecret, .noRegion, .credentialProcessFailed,
            .invalidAccessKeyId, .signatureDoesNotMatch, .accessDenied, .forbidden, .expiredToken, .invalidToken,
            .requestTimeTooSkewed, .unrecognizedClientException, .invalidSignatureException, .accessDeniedException,
            .expiredTokenException, .invalidKeyId, .parameterNotFound, .parameterVersionNotFound,
            .authorizationHeaderMalformed:
            return .environment
        default:
            return .infrastructure
        }
    }
}
