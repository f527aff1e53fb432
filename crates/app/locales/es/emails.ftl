email-sign-in-subject = Su enlace de acceso
email-sign-in-intro = Abra este enlace para iniciar sesión en su portal de socios. Funciona una vez, durante 15 minutos.
email-sign-in-button = Iniciar sesión
email-sign-in-ignore = Si no lo ha pedido, ignore este correo: nadie puede iniciar sesión sin el enlace.
email-reminder-subject = Recordatorio: { $title }
email-reminder-intro = { $lead } le pide que lea y confirme un mensaje imprescindible:
