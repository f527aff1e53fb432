portal-name = Partner portal
skip-to-content = Skip to content
nav-inbox = Inbox
nav-sign-out = Sign out
signed-in-as = Signed in as { $name }

sign-in-title = Sign in
sign-in-intro = Enter the email address your company registered for you. We will email you a link that signs you in.
sign-in-email = Email address
sign-in-send = Email me a sign-in link
sign-in-sent-title = Check your email
sign-in-sent = If { $email } belongs to a partner user, a sign-in link is on its way. It works once, for 15 minutes.
sign-in-again = Use another address
sign-in-link-title = Finish signing in
sign-in-link-intro = Press the button to sign in to the partner portal on this device.
sign-in-link-button = Sign in
sign-in-link-failed = This sign-in link was used, has expired or is not valid. Ask for a new one.

inbox-title = Inbox
inbox-search = Search messages
inbox-search-button = Search
inbox-filter-topic = Topic
inbox-filter-any-topic = All topics
inbox-filter-importance = Importance
inbox-filter-any-importance = Any importance
inbox-filter-unread = Unread only
inbox-filter-needs-ack = Needs my acknowledgment
inbox-filter-apply = Apply filters
inbox-filter-clear = Clear
inbox-empty = No messages match.
inbox-older = Older messages
inbox-unread = Unread
inbox-needs-ack = Acknowledgment needed
inbox-acknowledged = Acknowledged

importance-critical = Must know
importance-action = Need to know
importance-info = Nice to know

message-what-changed = What changed
message-why-it-matters = Why it matters
message-what-to-do = What to do next
message-back = Back to the inbox
message-received = Received { $date }
message-ack-title = Your acknowledgment
message-ack-intro = By pressing the button you confirm:
message-ack-button = I confirm
message-ack-due = Please confirm by { $date }.
message-ack-done = You confirmed this on { $date }.
message-acknowledged = Thank you: your acknowledgment is recorded.

popup-label = Must know: waiting for your acknowledgment
popup-read = Read and acknowledge
popup-later = Close for now

error-title = Something is wrong
error-not-found = This page does not exist, or it is not yours to see.
error-form-expired = This form has expired. Go back, reload the page and try again.
error-too-many = Too many attempts. Wait a minute and try again.
error-unexpected = Something went wrong on our side. Try again in a moment.
