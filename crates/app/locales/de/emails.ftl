email-sign-in-subject = Ihr Anmeldelink
email-sign-in-intro = Öffnen Sie diesen Link, um sich im Partnerportal anzumelden. Er gilt einmal, 15 Minuten lang.
email-sign-in-button = Anmelden
email-sign-in-ignore = Wenn Sie ihn nicht angefordert haben, ignorieren Sie diese E-Mail: Ohne den Link kann sich niemand anmelden.
email-reminder-subject = Erinnerung: { $title }
email-reminder-intro = { $lead } bittet Sie, eine Pflichtlektüre zu lesen und zu bestätigen:
