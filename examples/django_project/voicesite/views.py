"""The site's voice view: Twilio asks what to do with a call, the view answers TwiML.

It knows nothing of callguard; ``wsgi.py`` puts callguard in front of it.
"""

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.twiml.voice_response import VoiceResponse


@csrf_exempt  # Twilio posts without a CSRF token; callguard checks its signature instead
@require_POST
def voice(request: HttpRequest) -> HttpResponse:
    response = VoiceResponse()
    dial = response.dial(caller_id="+14155550100")
    for number in request.POST.get("Numbers", request.POST.get("To", "")).split(","):
        dial.number(number)
    return HttpResponse(str(response), content_type="text/xml")


def health(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")
