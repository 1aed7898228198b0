"""What tests upload to see a scanner at work."""

# The anti-malware test file every scanner reports (the test bed's clamd through its own
# signature database, hack/clamav/quckchat-test.ndb).
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
